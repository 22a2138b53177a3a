#pragma once
// Shared setup for tests against a real kcp (test/peers/kcp-up.sh; TMCD_KCP_KUBECONFIG names its
// admin kubeconfig; test/e2e/test_kcp.py provides it).

#include <thread>

#include "live_helpers.h"

namespace tmcd::kube::live {

using namespace std::chrono_literals;

inline std::string KcpKubeconfig() {
  const char* k = std::getenv("TMCD_KCP_KUBECONFIG");
  REQUIRE_MESSAGE(k != nullptr, "TMCD_KCP_KUBECONFIG is not set: run through test/e2e/test_kcp.py");
  return k;
}

inline std::unique_ptr<Client> KcpClient(const std::string& context) {
  auto cfg = LoadKubeconfig(KcpKubeconfig(), context);
  REQUIRE_MESSAGE(cfg.ok(), cfg.status().ToString());
  CHECK_FALSE(cfg->ca_pem.empty());  // kcp's kubeconfig carries its CA: TLS is verified
  return NewClient(*cfg);
}

inline const ResourceRef kWorkspaces{"tenancy.kcp.io", "v1alpha1", "workspaces", "", "root"};

// Creates root:<name> and waits until it is Ready; returns its logical cluster name.
inline std::string NewWorkspace(Client& c, const std::string& name) {
  Json ws = {{"apiVersion", "tenancy.kcp.io/v1alpha1"},
             {"kind", "Workspace"},
             {"metadata", {{"name", name}}},
             {"spec", {{"type", {{"name", "universal"}, {"path", "root"}}}}}};
  auto created = c.Create(kWorkspaces, ws);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  for (int i = 0; i < 240; ++i) {
    auto got = c.Get(kWorkspaces, name);
    REQUIRE(got.ok());
    if (StatusField(*got, "phase") == "Ready") return (*got)["spec"].value("cluster", "");
    std::this_thread::sleep_for(250ms);
  }
  FAIL("workspace " << name << " did not become Ready within 60 s");
  return "";
}

}  // namespace tmcd::kube::live
