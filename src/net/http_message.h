#pragma once
// HTTP/1.1 messages for tmcd's own server (src/net/http_server.h): the request as parsed from the
// wire (percent-decoded path and query, case-insensitive headers, the body with Content-Length or
// chunked framing decoded), the response handlers fill in, and the incremental request parser.
// Pure value types and functions; thread-compatible.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tmcd::net {

struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};
using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;

// Who is on the other end of a connection, as the transport knows it (the authenticator turns this
// into a user: src/security/authn.h). One per connection, shared by its requests.
struct PeerInfo {
  enum class Transport { kTcp, kTls, kUnix } transport = Transport::kTcp;
  std::string remote;  // "127.0.0.1:50312", "[::1]:50312" or "unix"
  // Unix sockets: SO_PEERCRED of the connecting process.
  bool has_credentials = false;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int32_t pid = 0;
  // TLS: the client certificate, if one was sent.
  bool has_client_cert = false;
  bool client_cert_verified = false;          // chains to the client CA, within its validity period
  std::string client_cert_error;              // why not, e.g. "certificate has expired"
  std::string client_cert_cn;                 // subject CN: the user name
  std::vector<std::string> client_cert_orgs;  // subject O values: the groups
};

struct HttpRequest {
  std::shared_ptr<const PeerInfo> peer;  // set by the server; null in unit tests that build requests
  std::string method;
  std::string target;                              // the raw request-target, e.g. "/api/v1/pods?watch=1"
  std::string path;                                // percent-decoded path without the query
  std::string raw_path;                            // the path as sent, still percent-encoded
  std::multimap<std::string, std::string> params;  // decoded query parameters
  Headers headers;
  std::string body;
  int minor_version = 1;  // HTTP/1.<minor>

  // The first value of a header or query parameter, "" when absent.
  std::string Header(std::string_view name) const;
  std::string Param(std::string_view name) const;
  bool HasParam(std::string_view name) const { return params.find(std::string(name)) != params.end(); }
  // The path to split into segments before decoding them ("%2F" inside a name must not become a
  // separator): raw_path, or path for requests built without one (tests).
  const std::string& SegmentedPath() const { return raw_path.empty() ? path : raw_path; }
  // HTTP/1.1 keeps connections open unless "Connection: close"; HTTP/1.0 only with "keep-alive".
  bool KeepAlive() const;
};

// A response body produced over time (a watch stream), sent with chunked transfer encoding. All
// methods except the wake callback run on the server's I/O thread, never concurrently.
class StreamSource {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~StreamSource() = default;
  // `wake` tells the server that Pull has new data; it may be called from any thread until Close.
  virtual void Attach(std::function<void()> wake) = 0;
  // Appends what is ready now (about `budget` bytes at most) to `out`, never blocking. Returns false
  // once the stream has ended; `out` then holds its last data.
  virtual bool Pull(std::string& out, size_t budget, TimePoint now) = 0;
  // When Pull must run again even without a wake (bookmarks, deadlines).
  virtual TimePoint NextTimer() const = 0;
  // The client went away or the server stops. Called exactly once; `wake` must not be called after.
  virtual void Close() = 0;
};

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;
  std::shared_ptr<StreamSource> stream;  // when set, the body is streamed instead

  void SetContent(std::string content, std::string_view content_type);
  void SetHeader(std::string_view name, std::string_view value);
  std::string Header(std::string_view name) const;
};

// Serializes the status line and headers (adding Content-Length, or Transfer-Encoding: chunked for a
// stream, and Connection: close when `keep_alive` is false).
std::string SerializeHead(const HttpResponse& res, bool keep_alive);
std::string_view ReasonPhrase(int status);

// "%2F" → "/"; with `plus_is_space`, "+" → " " (query strings). Malformed escapes stay as sent.
std::string PercentDecode(std::string_view s, bool plus_is_space);

struct ParseLimits {
  size_t max_header_bytes = size_t{64} * 1024;
  size_t max_body_bytes = size_t{3} * 1024 * 1024;
};

// Result of trying to parse one request from the front of a buffer.
struct ParseResult {
  enum class State { kNeedMore, kDone, kError } state = State::kNeedMore;
  size_t consumed = 0;  // kDone: bytes of the buffer that made up the request
  bool headers_complete = false;
  bool expect_continue = false;  // the client waits for "100 Continue" before sending the body
  int error_status = 0;          // kError: 400, 413, 431, 501 or 505
  std::string error;
};

// Parses one complete request (headers and body) from the front of `buf` into `out`. Re-parses from
// the start on every call; requests are bounded by `limits`, so the cost stays small.
ParseResult ParseRequest(std::string_view buf, const ParseLimits& limits, HttpRequest& out);

}  // namespace tmcd::net
