#include "api/router.h"

namespace arbor::api {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    std::size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return parts;
}

bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::vector<std::string>& params) {
  auto want = Split(pattern);
  auto got = Split(path);
  if (want.size() != got.size()) return false;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "{}") {
      out.emplace_back(got[i]);
    } else if (want[i] != got[i]) {
      return false;
    }
  }
  params = std::move(out);
  return true;
}

}  // namespace

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

const Route* Router::Match(const std::string& method, const std::string& path,
                           std::vector<std::string>& params, bool& path_matched) const {
  path_matched = false;
  // A literal segment beats a {} one: /v1/organization/members is not /v1/organization/{}.
  const Route* best = nullptr;
  std::size_t best_params = 0;
  for (const Route& r : routes_) {
    std::vector<std::string> p;
    if (!MatchPattern(r.pattern, path, p)) continue;
    path_matched = true;
    if (r.method == method && (best == nullptr || p.size() < best_params)) {
      best = &r;
      best_params = p.size();
      params = std::move(p);
    }
  }
  return best;
}

}  // namespace arbor::api
