#include "server/admin_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>

#include "base/util.h"
#include "json/json.h"

namespace arbor::ops {
namespace {

// The abstract address of `name`: a leading NUL, then the name (no terminator).
socklen_t Address(const std::string& name, sockaddr_un& addr) {
  addr = sockaddr_un{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

// The peer runs as the server's user (or root).
bool PeerAllowed(int conn) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  return cred.uid == 0 || cred.uid == ::geteuid();
}

// Reads up to the first newline (the whole message); false on EOF or error first.
bool ReadLine(int fd, std::string& out) {
  char buf[4096];
  while (out.find('\n') == std::string::npos) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > (1u << 20)) return false;
  }
  out.resize(out.find('\n'));
  return true;
}

bool WriteAll(int fd, const std::string& data) {
  for (std::size_t done = 0; done < data.size();) {
    // MSG_NOSIGNAL: a peer that went away is an error here, not a SIGPIPE for the process.
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::string AdminSocketName(const std::string& data_dir) {
  std::error_code ec;
  std::string path = std::filesystem::weakly_canonical(data_dir, ec).string();
  if (ec) path = std::filesystem::absolute(data_dir, ec).lexically_normal().string();
  return "arbor-admin-" + Sha256Hex(path).substr(0, 32);
}

StatusOr<std::unique_ptr<AdminSocket>> AdminSocket::Start(const std::string& name,
                                                          Handler handler) {
  sockaddr_un addr;
  socklen_t len = Address(name, addr);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal("cannot create the admin socket");
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 4) != 0) {
    ::close(fd);
    return Internal("cannot listen on the admin socket @" + name + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AdminSocket>(new AdminSocket(fd, std::move(handler)));
}

AdminSocket::AdminSocket(int fd, Handler handler) : fd_(fd), handler_(std::move(handler)) {
  thread_ = std::thread([this] { Loop(); });
}

AdminSocket::~AdminSocket() { Stop(); }

void AdminSocket::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void AdminSocket::Loop() {
  while (!stopping_) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    std::string line;
    boost::json::object reply;
    if (!PeerAllowed(conn) || !ReadLine(conn, line)) {
      ::close(conn);
      continue;
    }
    auto request = json::Parse(line);
    if (!request.ok() || !request->is_object()) {
      reply = {{"ok", false}, {"error", "request must be one JSON object"}};
    } else {
      reply = handler_(request->as_object());
    }
    WriteAll(conn, json::Serialize(reply) + "\n");
    ::close(conn);
  }
}

StatusOr<boost::json::object> AdminCall(const std::string& name,
                                        const boost::json::object& request) {
  sockaddr_un addr;
  socklen_t len = Address(name, addr);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal("cannot create a socket");
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    ::close(fd);
    return Unavailable("no server listens on the admin socket @" + name);
  }
  std::string line;
  bool ok = WriteAll(fd, json::Serialize(request) + "\n") && ReadLine(fd, line);
  ::close(fd);
  if (!ok) return Internal("the server closed the admin socket without a reply");
  ASSIGN_OR_RETURN(boost::json::value reply, json::Parse(line));
  if (!reply.is_object()) return Internal("bad reply on the admin socket");
  return reply.as_object();
}

}  // namespace arbor::ops
