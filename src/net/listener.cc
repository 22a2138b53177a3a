#include "net/listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace tmcd::net {
namespace {

std::string ErrnoText(int err) {
  return std::strerror(err);  // NOLINT(concurrency-mt-unsafe): messages only, glibc returns static text
}

}  // namespace

Result<int> ListenTcp(const std::string& host, int port, int& bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(port);
  const std::string where = host + ":" + port_text;
  if (int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found); rc != 0) {
    return Status(Reason::kServiceUnavailable, "cannot resolve " + where + ": " + ::gai_strerror(rc));
  }
  std::string why = "no address";
  int listen_fd = -1;
  for (addrinfo* a = found; a != nullptr && listen_fd < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd = fd;
    } else {
      why = ErrnoText(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd < 0) return Status(Reason::kServiceUnavailable, "cannot listen on " + where + ": " + why);
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&bound), &len);  // NOLINT: sockets API
  bound_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)  // NOLINT
                                           : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);   // NOLINT
  return listen_fd;
}

Result<int> ListenUnix(const std::string& path, uint32_t mode, int64_t gid) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Invalid("Unix socket path " + path + " must be 1.." + std::to_string(sizeof(addr.sun_path) - 1) +
                   " bytes long");
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    // Only a socket left by an earlier run is replaced; never a file someone put there.
    if (!S_ISSOCK(st.st_mode)) return Invalid("Unix socket path " + path + " exists and is not a socket");
    ::unlink(path.c_str());
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal("cannot create a Unix socket: " + ErrnoText(errno));
  // bind creates the file with 0777 & ~umask: bind under a restrictive umask, then set the mode,
  // so there is no moment when others could connect.
  const mode_t old = ::umask(0177);
  const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));  // NOLINT: sockets API
  const int bind_errno = errno;
  ::umask(old);
  std::string why;
  if (rc != 0) {
    why = "cannot bind " + path + ": " + ErrnoText(bind_errno);
  } else if (gid >= 0 && ::chown(path.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(gid)) != 0) {
    why = "cannot set the group of " + path + ": " + ErrnoText(errno);
  } else if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    why = "cannot set the mode of " + path + ": " + ErrnoText(errno);
  } else if (::listen(fd, SOMAXCONN) != 0) {
    why = "cannot listen on " + path + ": " + ErrnoText(errno);
  }
  if (!why.empty()) {
    ::close(fd);
    return Status(Reason::kServiceUnavailable, why);
  }
  return fd;
}

std::shared_ptr<PeerInfo> DescribePeer(int fd, bool unix_socket) {
  auto peer = std::make_shared<PeerInfo>();
  if (unix_socket) {
    peer->transport = PeerInfo::Transport::kUnix;
    peer->remote = "unix";
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      peer->has_credentials = true;
      peer->uid = cred.uid;
      peer->gid = cred.gid;
      peer->pid = cred.pid;
    }
    return peer;
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return peer;  // NOLINT: sockets API
  std::array<char, INET6_ADDRSTRLEN> host{};
  if (addr.ss_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&addr);  // NOLINT: sockets API
    ::inet_ntop(AF_INET6, &a6->sin6_addr, host.data(), host.size());
    peer->remote = "[" + std::string(host.data()) + "]:" + std::to_string(ntohs(a6->sin6_port));
  } else if (addr.ss_family == AF_INET) {
    const auto* a4 = reinterpret_cast<const sockaddr_in*>(&addr);  // NOLINT: sockets API
    ::inet_ntop(AF_INET, &a4->sin_addr, host.data(), host.size());
    peer->remote = std::string(host.data()) + ":" + std::to_string(ntohs(a4->sin_port));
  }
  return peer;
}

}  // namespace tmcd::net
