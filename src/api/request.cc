#include "api/request.h"

#include "common/strings.h"

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

Result<RequestPath> ParsePath(std::string_view path) {
  RequestPath r;
  std::vector<std::string> parts;
  for (auto& p : Split(path, '/')) {
    if (!p.empty()) parts.push_back(std::move(p));
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
  return r;
}

}  // namespace tmcd::api
