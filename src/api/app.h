// The application: every route of the Braintrust-compatible surface, wired to the control
// plane (auth, registry), the write path (ingest) and the read path (query).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/http.h"
#include "api/router.h"
#include "catalog/catalog.h"
#include "control/auth.h"
#include "control/functions.h"
#include "control/registry.h"
#include "control/secrets.h"
#include "ingest/writer.h"
#include "query/engine.h"
#include "storage/object_store.h"

namespace arbor::api {

struct AppDeps {
  catalog::Catalog& catalog;
  control::Auth& auth;
  control::Registry& registry;
  ingest::Writer& writer;
  query::Engine& engine;
  storage::ObjectStore& blobs;
  std::string url_signing_key;  // secret for the upload/download URLs we hand out
  std::string version;
  std::string web_dir;  // the built web UI (web/dist); empty: not served
  // Seals AI secrets under the master key; null: /v1/ai_secret answers 400 (no master key).
  const control::SecretBox* secret_box = nullptr;
};

class App {
 public:
  explicit App(AppDeps deps);
  Response Handle(const Request& request) const;
  const Router& router() const { return router_; }

 private:
  void AddControlRoutes();
  void AddRestRoutes();
  void AddDataRoutes();
  void AddBlobRoutes();
  void AddOtelRoutes();
  void AddPromptRoutes();
  void AddSecretRoutes();
  void AddOrgRoutes();
  void AddWebRoutes();
  // The web UI's static files and client-side routes (/app/...), when the request is one.
  std::optional<Response> ServeWeb(const Request& request) const;

  Response Dispatch(const Request& request) const;

  // Shared by /logs3, overflow and REST insert: validate, then write atomically.
  StatusOr<std::uint64_t> WriteRows(const control::Principal& who, boost::json::array rows) const;
  std::string SignedUrl(const Request& request, const std::string& path,
                        const std::string& op) const;
  Status CheckSignature(const Request& request, const std::string& op) const;

  AppDeps deps_;
  Router router_;
  std::unique_ptr<control::Functions> functions_;   // made by AddPromptRoutes
  std::unique_ptr<control::AiSecrets> ai_secrets_;  // made by AddSecretRoutes (needs a key)
};

// Parses a request body as a JSON object, with a clear error otherwise.
StatusOr<boost::json::object> BodyObject(const Request& request);

}  // namespace arbor::api
