#include "kube/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace tmcd::kube {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return BadRequest("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

// The named entry of a list like clusters: [{name: x, cluster: {...}}].
Result<YAML::Node> FindNamed(const YAML::Node& root, const char* list, const char* field, const std::string& name,
                             const std::string& origin) {
  const YAML::Node items = root[list];
  if (items && !items.IsSequence()) return BadRequest(origin + ": " + list + " must be a list");
  if (items) {
    for (const auto& item : items) {
      if (item.IsMap() && item["name"] && item["name"].as<std::string>() == name) {
        if (!item[field] || !item[field].IsMap()) {
          return BadRequest(origin + ": " + list + " entry " + Quote(name) + " has no " + field + " map");
        }
        return item[field];
      }
    }
  }
  return BadRequest(origin + ": no " + std::string(field) + " named " + Quote(name) + " in " + list);
}

std::string Scalar(const YAML::Node& node, const char* key) {
  const YAML::Node v = node[key];
  return v && v.IsScalar() ? v.as<std::string>() : "";
}

// `<key>-data` (base64 PEM) or `<key>` (a file); "" when neither is set.
Result<std::string> PemField(const YAML::Node& node, const std::string& key, const std::string& base_dir,
                             const std::string& where) {
  const std::string data = Scalar(node, (key + "-data").c_str());
  if (!data.empty()) {
    std::string pem;
    if (!Base64Decode(data, pem)) return BadRequest(where + ": " + key + "-data is not valid base64");
    if (pem.find("-----BEGIN ") == std::string::npos) return BadRequest(where + ": " + key + "-data is not PEM");
    return pem;
  }
  const std::string file = Scalar(node, key.c_str());
  if (file.empty()) return std::string();
  auto pem = ReadFile(Resolve(base_dir, file));
  if (!pem.ok()) return BadRequest(where + ": " + key + ": " + pem.status().message());
  if (pem->find("-----BEGIN ") == std::string::npos) return BadRequest(where + ": " + key + " " + file + " is not PEM");
  return pem;
}

// Inline mode: the first field that would make tmcd read a local file or run a program.
std::string FileReference(const YAML::Node& c, const YAML::Node& u) {
  for (const char* k : {"certificate-authority"}) {
    if (c && c[k]) return std::string("cluster.") + k;
  }
  for (const char* k : {"tokenFile", "client-certificate", "client-key", "exec", "auth-provider"}) {
    if (u && u[k]) return std::string("user.") + k;
  }
  return "";
}

Status FillCluster(const YAML::Node& c, const std::string& base_dir, const std::string& where, RestConfig& out) {
  out.server = Scalar(c, "server");
  if (out.server.empty()) return BadRequest(where + ": server is required");
  if (!StartsWith(out.server, "https://") && !StartsWith(out.server, "http://")) {
    return BadRequest(where + ": server " + Quote(out.server) + " is not an http(s) URL");
  }
  while (out.server.size() > 8 && out.server.back() == '/') out.server.pop_back();
  TMCD_ASSIGN_OR_RETURN(out.ca_pem, PemField(c, "certificate-authority", base_dir, where));
  out.insecure_skip_tls_verify = Scalar(c, "insecure-skip-tls-verify") == "true";
  out.tls_server_name = Scalar(c, "tls-server-name");
  if (out.insecure_skip_tls_verify && !out.ca_pem.empty()) {
    return BadRequest(where + ": insecure-skip-tls-verify and a certificate authority are mutually exclusive");
  }
  return Status::Ok();
}

Status FillUser(const YAML::Node& u, const std::string& base_dir, const std::string& where, RestConfig& out) {
  out.token = Scalar(u, "token");
  if (std::string why = TokenProblem(out.token); !why.empty()) return BadRequest(where + ": token " + why);
  const std::string token_file = Scalar(u, "tokenFile");
  if (!token_file.empty()) {
    out.token_file = Resolve(base_dir, token_file);
    if (out.token.empty()) {
      auto t = ReadFile(out.token_file);
      if (!t.ok()) return BadRequest(where + ": tokenFile: " + t.status().message());
      out.token = std::string(Trim(*t));
    }
  }
  TMCD_ASSIGN_OR_RETURN(out.client_cert_pem, PemField(u, "client-certificate", base_dir, where));
  TMCD_ASSIGN_OR_RETURN(out.client_key_pem, PemField(u, "client-key", base_dir, where));
  if (out.client_cert_pem.empty() != out.client_key_pem.empty()) {
    return BadRequest(where + ": client-certificate and client-key must be given together");
  }
  if (u["exec"] || u["auth-provider"]) {
    return BadRequest(where +
                      ": exec and auth-provider credentials are not supported; use a token or a client certificate");
  }
  if (u["username"] || u["password"]) return BadRequest(where + ": basic authentication is not supported");
  return Status::Ok();
}

}  // namespace

namespace {

Result<RestConfig> Parse(std::string_view text, const std::string& base_dir, const std::string& context,
                         const std::string& origin, bool inline_only) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return BadRequest(origin + ": not valid YAML: " + e.what());
  }
  if (!root.IsMap()) return BadRequest(origin + ": not a kubeconfig (expected a map with clusters, users, contexts)");
  try {
    RestConfig out;
    out.context = context.empty() ? Scalar(root, "current-context") : context;
    if (out.context.empty()) return BadRequest(origin + ": no current-context and no context was chosen");
    TMCD_ASSIGN_OR_RETURN(YAML::Node ctx, FindNamed(root, "contexts", "context", out.context, origin));
    const std::string cluster = Scalar(ctx, "cluster");
    const std::string user = Scalar(ctx, "user");
    if (cluster.empty()) return BadRequest(origin + ": context " + Quote(out.context) + " names no cluster");
    out.namespace_ = Scalar(ctx, "namespace");
    TMCD_ASSIGN_OR_RETURN(YAML::Node c, FindNamed(root, "clusters", "cluster", cluster, origin));
    YAML::Node u;
    if (!user.empty()) {
      TMCD_ASSIGN_OR_RETURN(u, FindNamed(root, "users", "user", user, origin));
    }
    if (inline_only) {
      if (std::string field = FileReference(c, u); !field.empty()) {
        return BadRequest(origin + ": " + field +
                          " is not allowed here: a kubeconfig stored in a Secret must carry its credentials inline "
                          "(token, certificate-authority-data, client-certificate-data, client-key-data)");
      }
    }
    TMCD_TRY(FillCluster(c, base_dir, origin + ": cluster " + Quote(cluster), out));
    if (!user.empty()) TMCD_TRY(FillUser(u, base_dir, origin + ": user " + Quote(user), out));
    return out;
  } catch (const YAML::Exception& e) {
    return BadRequest(origin + ": malformed kubeconfig: " + e.what());
  }
}

}  // namespace

std::string TokenProblem(std::string_view token) {
  if (token.size() > size_t{16} * 1024) return "is longer than 16 KiB";
  for (char ch : token) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f) return "contains a control character (line break?): not a valid header value";
  }
  return "";
}

Result<RestConfig> ParseKubeconfig(std::string_view text, const std::string& base_dir, const std::string& context,
                                   const std::string& origin) {
  return Parse(text, base_dir, context, origin, false);
}

Result<RestConfig> ParseInlineKubeconfig(std::string_view text, const std::string& origin) {
  return Parse(text, "", "", origin, true);
}

Result<RestConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  TMCD_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  return ParseKubeconfig(text, dir, context, path);
}

}  // namespace tmcd::kube
