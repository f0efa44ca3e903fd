// Langfuse's batch ingestion API, POST /api/public/ingestion (ingest/langfuse.h): Basic auth
// with any public key and an Arbor API key as the secret; the project is the x-bt-parent header
// (project_id:, project_name: or experiment_id:) or else the Basic user name as a project name.
#pragma once

#include <functional>

#include "api/otlp_export.h"
#include "api/router.h"
#include "control/registry.h"

namespace arbor::api {

// `writer_for` gives the principal's row writer (App::WriteRows).
void AddLangfuseRoutes(Router& router, control::Registry& registry,
                       std::function<RowWriter(const Call&)> writer_for);

}  // namespace arbor::api
