#include "api/request.h"

#include "apis/meta/names.h"
#include "common/strings.h"
#include "net/http_message.h"

namespace tmcd::api {

bool IsWorkspaceName(std::string_view ws) {
  if (ws.empty() || ws.size() > 253) return false;
  for (const auto& seg : Split(ws, ':')) {
    if (seg.empty() || seg.front() == '-' || seg.back() == '-') return false;
    for (char c : seg) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
  }
  return true;
}

namespace {

// Every segment a request names: a DNS label for namespaces, kube's path-segment rules (no '/', '%',
// "." or "..", at most 253 bytes) for names, lowercase tokens for resources. Checked here so that no
// later layer (store keys, RBAC, audit, downstream namespaces) ever sees "..", spaces or 2,000 bytes.
Status CheckSegments(const RequestPath& r) {
  if (!r.namespace_.empty()) {
    if (auto problems = apis::CheckDNS1123Label(r.namespace_); !problems.empty()) {
      return BadRequest("invalid namespace " + Quote(r.namespace_) + ": " + problems.front());
    }
  }
  if (!r.name.empty() && (r.name == "." || r.name == ".." || r.name.size() > 253 ||
                          r.name.find_first_of("/%") != std::string::npos || !IsUtf8(r.name))) {
    return BadRequest("invalid name " + Quote(r.name) +
                      ": may not be '.' or '..', contain '/' or '%', or be longer than 253 bytes");
  }
  for (const std::string* token : {&r.group, &r.version, &r.resource, &r.subresource}) {
    if (token->size() > 253 ||
        token->find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos) {
      return NotFound("the server could not find the requested resource");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<RequestPath> ParsePath(std::string_view path) {
  RequestPath r;
  std::vector<std::string> parts;
  for (auto& p : Split(path, '/')) {  // split first, then decode: an encoded '/' stays in its segment
    if (!p.empty()) parts.push_back(net::PercentDecode(p, false));
  }
  size_t i = 0;
  if (parts.size() >= 2 && parts[0] == "clusters") {
    if (!IsWorkspaceName(parts[1])) {
      return BadRequest("invalid workspace " + Quote(parts[1]) + ": want a logical cluster path like root:org");
    }
    r.workspace = parts[1];
    i = 2;
  }
  auto not_found = [&] { return NotFound("the server could not find the requested resource"); };
  if (i >= parts.size()) return not_found();
  if (parts[i] == "api") {
    r.core = true;
    ++i;
    if (i == parts.size()) return r.kind = RequestPath::Kind::kDiscoveryRoot, r;
    r.version = parts[i++];
  } else if (parts[i] == "apis") {
    ++i;
    if (i == parts.size()) return r.kind = RequestPath::Kind::kDiscoveryRoot, r;
    r.group = parts[i++];
    if (i == parts.size()) return r.kind = RequestPath::Kind::kDiscoveryGroup, r;
    r.version = parts[i++];
  } else {
    return not_found();
  }
  if (i == parts.size()) return r.kind = RequestPath::Kind::kDiscoveryVersion, r;
  std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(i), parts.end());
  // namespaces/<ns>/<resource>... addresses a namespaced resource; namespaces[/<name>[/status|finalize]]
  // the namespace objects themselves (the API server's namespace subresources).
  if (rest.size() >= 3 && rest[0] == "namespaces" && rest[2] != "status" && rest[2] != "finalize") {
    r.namespace_ = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.empty() || rest.size() > 3) return not_found();
  r.resource = rest[0];
  if (rest.size() >= 2) r.name = rest[1];
  if (rest.size() == 3) r.subresource = rest[2];
  TMCD_TRY(CheckSegments(r));
  return r;
}

}  // namespace tmcd::api
