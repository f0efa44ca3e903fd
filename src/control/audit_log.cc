#include "control/audit_log.h"

#include "base/log.h"

namespace arbor::control {
namespace {

// Keys remembered for the once-a-minute rule; past this the table starts over (at worst one
// extra "api_key.use" event per key).
constexpr std::size_t kKeyUseEntriesMax = 100'000;

}  // namespace

void AuditLog::Record(const AuditActor& who, const std::string& action,
                      const std::string& target_type, const std::string& target_id,
                      const std::string& outcome) {
  auto appended = catalog_.AppendAuditEvent(catalog::AuditEvent{.org_id = who.org_id,
                                                                .actor_type = who.actor_type,
                                                                .actor_id = who.actor_id,
                                                                .user_id = who.user_id,
                                                                .role = who.role,
                                                                .action = action,
                                                                .target_type = target_type,
                                                                .target_id = target_id,
                                                                .request_id = who.request_id,
                                                                .client_ip = who.client_ip,
                                                                .outcome = outcome});
  if (!appended.ok()) {
    log::Error("audit event not written", {{"action", action},
                                           {"request_id", who.request_id},
                                           {"error", appended.status().message()}});
  }
}

void AuditLog::NoteKeyUse(const AuditActor& who, std::int64_t now_us) {
  if (who.actor_id.empty()) return;
  const std::int64_t minute = now_us / 60'000'000;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_use_minute_.size() >= kKeyUseEntriesMax) last_use_minute_.clear();
    auto [it, inserted] = last_use_minute_.try_emplace(who.actor_id, minute);
    if (!inserted && it->second == minute) return;
    it->second = minute;
  }
  Record(who, "api_key.use", "api_key", who.actor_id, "ok");
}

}  // namespace arbor::control
