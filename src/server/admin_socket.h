// The local admin channel of a running server: a Linux abstract Unix socket named after the
// data dir (AdminSocketName), so nothing is created in the data dir. Only a client of the
// server's own OS user (or root), checked with SO_PEERCRED, is served: that user can read
// every file of the data dir anyway. No network endpoint can trigger a server-side write to
// a path. One JSON object per line each way.
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/status.h"

namespace arbor::ops {

// "arbor-admin-" + the first 32 hex digits of SHA-256 of the data dir's canonical path.
std::string AdminSocketName(const std::string& data_dir);

class AdminSocket {
 public:
  using Handler = std::function<boost::json::object(const boost::json::object& request)>;

  // Binds the abstract socket `name` and serves requests one at a time.
  static StatusOr<std::unique_ptr<AdminSocket>> Start(const std::string& name, Handler handler);
  ~AdminSocket();
  void Stop();

 private:
  AdminSocket(int fd, Handler handler);
  void Loop();

  int fd_;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Sends one request to the server listening on `name` and returns its reply. Unavailable
// when no server listens there.
StatusOr<boost::json::object> AdminCall(const std::string& name,
                                        const boost::json::object& request);

}  // namespace arbor::ops
