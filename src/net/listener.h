#pragma once
// Listening sockets for the HTTP server: TCP (IPv4/IPv6, SO_REUSEADDR) and Unix domain sockets
// (mode and group set before anyone can connect, a stale socket file replaced, anything else at the
// path refused), and what the kernel says about an accepted peer. Thread-compatible.

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "net/http_message.h"

namespace tmcd::net {

// A non-blocking, close-on-exec listening socket; `bound_port` receives the port actually bound.
Result<int> ListenTcp(const std::string& host, int port, int& bound_port);
// `gid` -1 keeps the process's group. The socket file is created with `mode` (umask ignored).
Result<int> ListenUnix(const std::string& path, uint32_t mode, int64_t gid);
// The remote address (TCP) or SO_PEERCRED credentials (Unix) of an accepted socket.
std::shared_ptr<PeerInfo> DescribePeer(int fd, bool unix_socket);

}  // namespace tmcd::net
