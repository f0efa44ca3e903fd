// The audit log: who did what to which target, and how it ended. Events go to the catalog's
// append-only audit table (catalog migration 5) and are listed per org by
// GET /v1/audit_log. They never carry secret values or request bodies: only ids, names of
// actions and outcomes.
//
// Key use is recorded at most once per key per minute, so the hot path (every authenticated
// request) costs a map lookup, not a catalog write.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "catalog/catalog.h"

namespace arbor::control {

// Who acted, and from where: filled by the API from the authenticated principal and the
// request.
struct AuditActor {
  std::string org_id;
  std::string actor_type;  // "api_key" | "user" | "anonymous"
  std::string actor_id;
  std::string user_id;
  std::string role;
  std::string request_id;
  std::string client_ip;
};

struct AuditLogOptions {
  bool reads = false;  // also record query reads (btql, fetch): --audit-reads
};

class AuditLog {
 public:
  AuditLog(catalog::Catalog& catalog, AuditLogOptions options)
      : catalog_(catalog), options_(options) {}

  // Appends one event. A failure to write is logged, never returned: the audited request
  // already happened.
  void Record(const AuditActor& who, const std::string& action, const std::string& target_type,
              const std::string& target_id, const std::string& outcome);

  // "api_key.use", at most once per key per minute.
  void NoteKeyUse(const AuditActor& who, std::int64_t now_us);

  bool reads() const { return options_.reads; }

 private:
  catalog::Catalog& catalog_;
  const AuditLogOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, std::int64_t> last_use_minute_;  // key id -> minute
};

}  // namespace arbor::control
