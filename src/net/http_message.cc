#include "net/http_message.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tmcd::net {
namespace {

char Lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return Lower(x) == Lower(y); });
}

bool ContainsToken(std::string_view list, std::string_view token) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (EqualsIgnoreCase(item, token)) return true;
    start = end + 1;
  }
  return false;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

ParseResult Fail(int status, std::string why) {
  ParseResult r;
  r.state = ParseResult::State::kError;
  r.error_status = status;
  r.error = std::move(why);
  return r;
}

void ParseQuery(std::string_view query, std::multimap<std::string, std::string>& params) {
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view kv = query.substr(start, end - start);
    if (!kv.empty()) {
      size_t eq = kv.find('=');
      std::string key = PercentDecode(kv.substr(0, eq), true);
      std::string value = eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1), true);
      params.emplace(std::move(key), std::move(value));
    }
    start = end + 1;
  }
}

// The request line "METHOD SP target SP HTTP/1.x".
bool ParseRequestLine(std::string_view line, HttpRequest& out) {
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return false;
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), IsTokenChar)) return false;
  if (target.empty() || target.find(' ') != std::string_view::npos) return false;
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || !std::isdigit(static_cast<unsigned char>(version[7])))
    return false;
  out.method = std::string(method);
  out.target = std::string(target);
  out.minor_version = version[7] - '0';
  size_t q = target.find('?');
  out.raw_path = std::string(target.substr(0, q));
  out.path = PercentDecode(out.raw_path, false);
  if (q != std::string_view::npos) ParseQuery(target.substr(q + 1), out.params);
  return true;
}

bool ParseHeaderLines(std::string_view block, Headers& headers) {
  size_t start = 0;
  while (start < block.size()) {
    size_t end = block.find("\r\n", start);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(start, end - start);
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), IsTokenChar)) return false;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    headers.emplace(std::string(name), std::string(value));
    start = end + 2;
  }
  return true;
}

// Decodes a chunked body starting at buf[start]. kNeedMore until the last chunk and trailers
// arrived. The whole encoding (sizes, extensions, trailers) counts against the body limit: framing
// that never ends, or a million one-byte chunks, is refused as soon as it outgrows the limit instead
// of filling the connection's buffer (the server stops reading a full buffer; docs/reliability.md).
ParseResult DecodeChunked(std::string_view buf, size_t start, size_t max_body, std::string& body) {
  body.clear();
  size_t pos = start;
  const auto too_large = [&](size_t at) { return at - start > max_body; };
  while (true) {
    size_t eol = buf.find("\r\n", pos);
    if (eol == std::string_view::npos)
      return too_large(buf.size()) ? Fail(413, "request body too large") : ParseResult{};
    if (too_large(eol)) return Fail(413, "request body too large");
    std::string_view size_line = buf.substr(pos, eol - pos);
    size_line = size_line.substr(0, size_line.find(';'));  // chunk extensions are ignored
    size_t size = 0;
    auto [end, ec] = std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
    if (ec == std::errc::result_out_of_range) return Fail(413, "request body too large");
    if (ec != std::errc() || end != size_line.data() + size_line.size() || size_line.empty())
      return Fail(400, "malformed chunk size");
    pos = eol + 2;
    // Compared without adding to `size`: a size near SIZE_MAX must not wrap around the limit.
    if (size > max_body || size > max_body - (pos - start)) return Fail(413, "request body too large");
    if (size == 0) {
      size_t trailers_end = buf.find("\r\n", pos);  // trailers are ignored up to the empty line
      while (trailers_end != std::string_view::npos && trailers_end != pos) {
        pos = trailers_end + 2;
        trailers_end = buf.find("\r\n", pos);
      }
      if (trailers_end == std::string_view::npos)
        return too_large(buf.size()) ? Fail(413, "request body too large") : ParseResult{};
      if (too_large(trailers_end)) return Fail(413, "request body too large");
      ParseResult r;
      r.state = ParseResult::State::kDone;
      r.consumed = pos + 2;
      return r;
    }
    if (buf.size() - pos < size + 2) return {};
    if (buf.substr(pos + size, 2) != "\r\n") return Fail(400, "malformed chunk");
    body.append(buf.substr(pos, size));
    pos += size + 2;
  }
}

}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](char x, char y) { return Lower(x) < Lower(y); });
}

std::string HttpRequest::Header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string HttpRequest::Param(std::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? "" : it->second;
}

bool HttpRequest::KeepAlive() const {
  const std::string conn = Header("Connection");
  if (minor_version == 0) return ContainsToken(conn, "keep-alive");
  return !ContainsToken(conn, "close");
}

void HttpResponse::SetContent(std::string content, std::string_view content_type) {
  body = std::move(content);
  SetHeader("Content-Type", content_type);
}

void HttpResponse::SetHeader(std::string_view name, std::string_view value) {
  headers.erase(std::string(name));
  headers.emplace(std::string(name), std::string(value));
}

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string SerializeHead(const HttpResponse& res, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(res.status) + " " + std::string(ReasonPhrase(res.status)) + "\r\n";
  for (const auto& [name, value] : res.headers) out += name + ": " + value + "\r\n";
  if (res.stream) {
    out += "Transfer-Encoding: chunked\r\n";
  } else {
    out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

ParseResult ParseRequest(std::string_view buf, const ParseLimits& limits, HttpRequest& out) {
  size_t start = 0;  // tolerate empty lines before a request (RFC 9112 §2.2)
  while (buf.substr(start, 2) == "\r\n") start += 2;
  size_t head_end = buf.find("\r\n\r\n", start);
  if (head_end == std::string_view::npos) {
    if (buf.size() - start > limits.max_header_bytes) return Fail(431, "request headers too large");
    return {};
  }
  if (head_end - start > limits.max_header_bytes) return Fail(431, "request headers too large");
  out = HttpRequest();
  size_t line_end = buf.find("\r\n", start);
  if (!ParseRequestLine(buf.substr(start, line_end - start), out)) {
    std::string_view line = buf.substr(start, line_end - start);
    const size_t sp = line.rfind(' ');
    const bool other_version = sp != std::string_view::npos && line.substr(sp + 1, 5) == "HTTP/" &&
                               line.substr(sp + 1, 7) != "HTTP/1." && line.find(' ') < sp;
    return Fail(other_version ? 505 : 400, other_version ? "HTTP version not supported" : "malformed request line");
  }
  if (line_end < head_end && !ParseHeaderLines(buf.substr(line_end + 2, head_end - line_end - 2), out.headers)) {
    return Fail(400, "malformed header line");
  }
  const size_t body_start = head_end + 4;
  ParseResult r;
  r.headers_complete = true;
  r.expect_continue = EqualsIgnoreCase(out.Header("Expect"), "100-continue");
  const std::string te = out.Header("Transfer-Encoding");
  if (!te.empty()) {
    // The header's value is not echoed: it is the client's bytes, not necessarily text.
    if (!EqualsIgnoreCase(te, "chunked")) return Fail(501, "unsupported Transfer-Encoding: only \"chunked\" is");
    ParseResult c = DecodeChunked(buf, body_start, limits.max_body_bytes, out.body);
    c.headers_complete = true;
    c.expect_continue = r.expect_continue;
    return c;
  }
  size_t length = 0;
  if (auto cl = out.Header("Content-Length"); !cl.empty()) {
    auto [end, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), length);
    if (ec != std::errc() || end != cl.data() + cl.size()) return Fail(400, "malformed Content-Length");
  }
  if (length > limits.max_body_bytes) return Fail(413, "request body too large");
  if (buf.size() - body_start < length) return r;
  out.body = std::string(buf.substr(body_start, length));
  r.state = ParseResult::State::kDone;
  r.consumed = body_start + length;
  return r;
}

}  // namespace tmcd::net
