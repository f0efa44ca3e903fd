// The application: every route of the Braintrust-compatible surface, wired to the control
// plane (auth, registry), the write path (ingest) and the read path (query).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/http.h"
#include "api/ops.h"
#include "api/router.h"
#include "base/rate_limit.h"
#include "catalog/catalog.h"
#include "control/access.h"
#include "control/audit_log.h"
#include "control/auth.h"
#include "control/functions.h"
#include "control/oidc.h"
#include "control/registry.h"
#include "control/secrets.h"
#include "control/users.h"
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
  // Operations (api/ops.h): audit events (null: none), /metrics token, rate limits, budgets.
  control::AuditLog* audit_log = nullptr;
  OpsOptions ops;
  // Local users and UI sessions (routes_users.cc); null: API keys only. Session cookies are
  // marked Secure when secure_cookies (TLS) or the request came through https
  // (X-Forwarded-Proto).
  control::Users* users = nullptr;
  bool secure_cookies = false;
  // OIDC sign-in into UI sessions (routes_oidc.cc); off unless issuer and client id are set.
  control::oidc::Config oidc;
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
  void AddRetentionRoutes();  // routes_retention.cc
  // routes_users.cc: /api/auth/* (sign-in for the web UI) and /v1/user.
  void AddUserRoutes();
  void AddOidcRoutes();  // routes_oidc.cc: /api/auth/oidc/*
  // The session cookie's principal; 403 for unsafe methods without the session's CSRF token.
  // With no cookie, the same 401 as a missing API key.
  StatusOr<control::Principal> SessionPrincipal(const Request& request) const;
  StatusOr<std::string> MemberRole(const std::string& org_id, const std::string& user_id) const;
  Status PatchUser(const control::Principal& who, const std::string& user_id,
                   const boost::json::object& body) const;
  // The web UI's static files and client-side routes (/app/...), when the request is one.
  std::optional<Response> ServeWeb(const Request& request) const;

  Response Dispatch(const Request& request, Served& served) const;

  // Operations (ops.cc): GET /metrics and GET /v1/audit_log; per request, after auth, the
  // rate limit and key-use audit (a response when refused); after the handler, metrics, the
  // access log and audit events.
  void AddOpsRoutes();
  // Access control: /v1/role, /v1/group, /v1/acl, /v1/organization/members, /v1/service_token
  // (routes_access.cc); what each route needs, and the check (access_policy.cc).
  void AddAccessRoutes();
  void ApplyAccessPolicy();
  std::optional<Response> Authorize(const Route& route, const Call& call) const;
  // The ACL object for an object type as routes name it ("project_logs", ...) and an id.
  StatusOr<control::ObjectRef> ObjectOf(const control::Principal& who, const std::string& type,
                                        const std::string& id) const;
  std::optional<Response> Admit(const Request& request, const Served& served) const;
  void Observe(const Request& request, const Served& served, Response& response,
               std::int64_t start_us) const;
  void RecordLogin(const Request& request, const Response& response, control::AuditActor who) const;

  // Shared by /logs3, overflow and REST insert: validate, then write atomically.
  StatusOr<std::uint64_t> WriteRows(const control::Principal& who, boost::json::array rows) const;
  std::string SignedUrl(const Request& request, const std::string& path,
                        const std::string& op) const;
  Status CheckSignature(const Request& request, const std::string& op) const;

  AppDeps deps_;
  Router router_;
  std::unique_ptr<control::Functions> functions_;   // made by AddPromptRoutes
  std::unique_ptr<control::Access> access_;         // made by AddAccessRoutes
  std::unique_ptr<control::AiSecrets> ai_secrets_;  // made by AddSecretRoutes (needs a key)
  std::unique_ptr<RateLimiter> rate_limiter_;       // made by AddOpsRoutes
};

// Parses a request body as a JSON object, with a clear error otherwise.
StatusOr<boost::json::object> BodyObject(const Request& request);

}  // namespace arbor::api
