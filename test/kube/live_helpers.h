#pragma once
// Shared setup for the client tests against a real kube-apiserver started by test/peers/up.sh
// (TMCD_PEER_DIR names its directory; the pytest wrapper test/e2e/test_kube_client.py provides it).

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "kube/client.h"

namespace tmcd::kube::live {

inline std::string PeerDir() {
  const char* d = std::getenv("TMCD_PEER_DIR");
  REQUIRE_MESSAGE(d != nullptr, "TMCD_PEER_DIR is not set: run through test/e2e/test_kube_client.py");
  return d;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// cluster-1's kubeconfig with TLS verified against the apiserver's own serving certificate.
inline RestConfig VerifiedConfig() {
  auto c = LoadKubeconfig(PeerDir() + "/cluster-1/kubeconfig");
  REQUIRE(c.ok());
  c->insecure_skip_tls_verify = false;
  c->ca_pem = ReadText(PeerDir() + "/cluster-1/certs/apiserver.crt");
  REQUIRE(!c->ca_pem.empty());
  return *c;
}

inline std::unique_ptr<Client> NewClient(RestConfig cfg = VerifiedConfig(), ClientOptions o = {}) {
  o.qps = 100;
  o.burst = 200;
  auto c = Client::Create(std::move(cfg), o);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  return std::move(*c);
}

inline const ResourceRef kNamespaces{"", "v1", "namespaces", "", ""};

inline ResourceRef ConfigMaps(const std::string& ns) {
  return {"", "v1", "configmaps", ns, ""};
}

// Creates a fresh namespace for one test case.
inline std::string NewNamespace(Client& c, const std::string& base) {
  static int n = 0;
  const std::string ns = base + "-" + std::to_string(::time(nullptr) % 100000) + "-" + std::to_string(++n);
  auto r = c.Create(kNamespaces, {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return ns;
}

// status.<field> as a string, "" while the status is not there yet.
inline std::string StatusField(const Json& obj, const char* field) {
  const auto st = obj.find("status");
  return st != obj.end() && st->is_object() ? st->value(field, "") : "";
}

inline Json ConfigMap(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", {{"k", value}}}};
}

}  // namespace tmcd::kube::live
