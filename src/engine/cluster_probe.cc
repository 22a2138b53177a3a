#include "engine/cluster_probe.h"

#include "common/strings.h"
#include "kube/discovery.h"
#include "kube/errors.h"

namespace tmcd::engine {
namespace {

using Json = nlohmann::json;
using apis::Quantity;

// The resources tracked in capacity, allocatable and available.
constexpr const char* kTracked[] = {"cpu", "memory", "pods"};

Result<std::string> SecretValue(const Json& secret, const char* key) {
  if (!secret.contains("data") || !secret["data"].is_object() || !secret["data"].contains(key)) {
    return NotFound(key);
  }
  const Json& v = secret["data"][key];
  if (!v.is_string()) return Invalid(std::string("data.") + key + " is not a string");
  std::string decoded;
  if (!Base64Decode(v.get<std::string>(), decoded)) return Invalid(std::string("data.") + key + " is not valid base64");
  if (decoded.empty()) return Invalid(std::string("data.") + key + " is empty");
  return decoded;
}

void AddTo(std::map<std::string, Quantity>& sum, const Json& list) {
  if (!list.is_object()) return;
  for (const char* r : kTracked) {
    if (!list.contains(r) || !list[r].is_string()) continue;
    auto q = Quantity::Parse(list[r].get<std::string>());
    if (!q.ok()) continue;
    auto it = sum.find(r);
    sum[r] = it == sum.end() ? *q : it->second.Plus(*q);
  }
}

// Requests of non-terminated Pods (cpu, memory) and their count ("pods").
Result<std::map<std::string, Quantity>> PodRequests(kube::Client& c) {
  kube::ListOptions lo;
  lo.field_selector = "status.phase!=Succeeded,status.phase!=Failed";
  lo.limit = 500;
  TMCD_ASSIGN_OR_RETURN(kube::ObjectList pods, c.ListAll({"", "v1", "pods", "", ""}, lo));
  std::map<std::string, Quantity> sum = {{"cpu", Quantity::FromMilli(0)}, {"memory", Quantity::FromMilli(0)}};
  for (const auto& pod : pods.items) {
    for (const auto& ctr : pod.value("spec", Json::object()).value("containers", Json::array())) {
      const Json requests = ctr.value("resources", Json::object()).value("requests", Json::object());
      for (const char* r : {"cpu", "memory"}) {
        if (!requests.contains(r) || !requests[r].is_string()) continue;
        auto q = Quantity::Parse(requests[r].get<std::string>());
        if (q.ok()) sum[r] = sum[r].Plus(*q);
      }
    }
  }
  sum["pods"] = Quantity::FromMilli(static_cast<int64_t>(pods.items.size()) * 1000);
  return sum;
}

void Inventory(kube::Client& c, const v1::ClusterRegistrationSpec& spec, ProbeResult& out) {
  out.inventory = true;
  if (!spec.capacity.empty()) {
    out.capacity = spec.capacity;  // declared capacity overrides what Nodes report
    out.allocatable = spec.capacity;
  } else {
    auto nodes = c.ListAll({"", "v1", "nodes", "", ""}, {.limit = 500});
    if (nodes.ok()) {
      for (const auto& n : nodes->items) {
        AddTo(out.capacity, n.value("status", Json::object()).value("capacity", Json::object()));
        AddTo(out.allocatable, n.value("status", Json::object()).value("allocatable", Json::object()));
      }
    } else {
      out.available_note = "cannot list Nodes (" + nodes.status().message() + "); declare spec.capacity";
    }
  }
  auto requests = PodRequests(c);
  if (requests.ok()) {
    for (const auto& [r, q] : out.allocatable) {
      auto it = requests->find(r);
      out.available[r] = it == requests->end() ? q : q.Minus(it->second);
    }
  } else {
    out.available = out.allocatable;
    if (out.available_note.empty()) {
      out.available_note = "cannot list Pods (" + requests.status().message() + "): available = allocatable";
    }
  }
  // Which of the resources tmcd may sync the cluster serves, in the group's preferred version.
  std::map<std::string, std::vector<kube::ApiResource>> served;  // group → resources
  for (const auto& gr : spec.synced_resources) {
    if (served.count(gr.group) == 0) {
      std::string version = "v1";
      if (!gr.group.empty()) {
        auto group = c.GetPath("/apis/" + gr.group);
        version = group.ok() ? group->value("preferredVersion", Json::object()).value("version", "") : "";
      }
      auto list = version.empty() ? Result<std::vector<kube::ApiResource>>(NotFound(gr.group))
                                  : kube::ServerResources(c, gr.group, version);
      served[gr.group] = list.ok() ? *list : std::vector<kube::ApiResource>{};
    }
    v1::SyncedResourceStatus st;
    st.group = gr.group;
    st.resource = gr.resource;
    st.state = "Incompatible";
    for (const auto& r : served[gr.group]) {
      if (r.resource != gr.resource) continue;
      st.versions = {r.version};
      st.state = "Accepted";
    }
    out.synced.push_back(std::move(st));
  }
}

}  // namespace

Result<kube::RestConfig> ResolveCredentials(const v1::ClusterEndpoint& endpoint, const Json* secret) {
  kube::RestConfig cfg;
  cfg.server = endpoint.server;
  cfg.tls_server_name = endpoint.tls_server_name;
  cfg.insecure_skip_tls_verify = endpoint.insecure_skip_tls_verify;
  if (!endpoint.ca_bundle.empty()) {
    if (!Base64Decode(endpoint.ca_bundle, cfg.ca_pem)) return Invalid("spec.endpoint.caBundle is not valid base64");
  }
  if (secret == nullptr) return cfg;
  auto token = SecretValue(*secret, "token");
  if (token.ok()) {
    cfg.token = std::string(Trim(*token));
    if (std::string why = kube::TokenProblem(cfg.token); !why.empty()) return Invalid("data.token " + why);
    return cfg;
  }
  if (token.status().reason() != Reason::kNotFound) return token.status();
  auto kubeconfig = SecretValue(*secret, "kubeconfig");
  if (kubeconfig.ok()) {
    auto parsed = kube::ParseInlineKubeconfig(*kubeconfig, "the Secret's data.kubeconfig");
    if (!parsed.ok()) return Invalid(parsed.status().message());
    cfg.token = parsed->token;
    cfg.client_cert_pem = parsed->client_cert_pem;
    cfg.client_key_pem = parsed->client_key_pem;
    if (cfg.ca_pem.empty() && !cfg.insecure_skip_tls_verify) cfg.ca_pem = parsed->ca_pem;
    if (cfg.token.empty() && cfg.client_cert_pem.empty()) {
      return Invalid("data.kubeconfig has no token and no client certificate for its current context");
    }
    return cfg;
  }
  if (kubeconfig.status().reason() != Reason::kNotFound) return kubeconfig.status();
  auto crt = SecretValue(*secret, "tls.crt");
  auto key = SecretValue(*secret, "tls.key");
  if (crt.ok() && key.ok()) {
    cfg.client_cert_pem = *crt;
    cfg.client_key_pem = *key;
    return cfg;
  }
  if (crt.ok() != key.ok()) return Invalid("tls.crt and tls.key must both be set");
  if (!crt.ok() && crt.status().reason() != Reason::kNotFound) return crt.status();
  return Invalid("the Secret has none of the keys token, kubeconfig, or tls.crt + tls.key");
}

ProbeResult Probe(kube::Client& c, const v1::ClusterRegistrationSpec& spec, bool inventory) {
  ProbeResult out;
  auto ready = c.Do("GET", "/readyz", "", "");
  if (!ready.ok()) {
    const Status& s = ready.status();
    if (kube::IsTransportError(s)) {
      out.reach = s;
    } else if (s.reason() == Reason::kUnauthorized || s.reason() == Reason::kForbidden) {
      out.auth = s;
    } else {
      out.health = s;
    }
    return out;
  }
  auto version = c.GetPath("/version");
  if (!version.ok()) {
    (kube::IsTransportError(version.status()) ? out.reach : out.health) = version.status();
    return out;
  }
  out.version = version->value("gitVersion", "");
  // Identity: the kube-system namespace's uid survives restarts and differs between clusters.
  auto ns = c.Get({"", "v1", "namespaces", "", ""}, "kube-system");
  if (!ns.ok()) {
    if (ns.status().reason() == Reason::kUnauthorized || ns.status().reason() == Reason::kForbidden) {
      out.auth = ns.status().Annotate("reading namespace kube-system (the cluster's identity)");
    } else {
      (kube::IsTransportError(ns.status()) ? out.reach : out.health) = ns.status();
    }
    return out;
  }
  out.cluster_id = ns->value("metadata", Json::object()).value("uid", "");
  if (inventory) Inventory(c, spec, out);
  return out;
}

}  // namespace tmcd::engine
