// The one write path for rows, whatever protocol brought them (/logs3 and its overflow form,
// REST insert and feedback, OTLP over HTTP and gRPC, Langfuse): validate, stamp the writer on
// audit entries, check the caller may write every row's object, then write atomically.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"
#include "control/auth.h"
#include "ingest/rows.h"
#include "ingest/writer.h"

namespace arbor::api {

// Ok when `who` may write every row: editors and above anywhere in their org; others where
// ACLs make them editors on the row's object (experiment, dataset or project's logs).
Status CheckRowWrites(catalog::Catalog& catalog, const control::Principal& who,
                      const std::vector<ingest::IncomingRow>& rows);

// Writes a request's rows for `who`: all of them or none. Returns the request's _xact_id.
StatusOr<std::uint64_t> WriteRowsAs(ingest::Writer& writer, catalog::Catalog& catalog,
                                    const control::Principal& who, boost::json::array rows);

}  // namespace arbor::api
