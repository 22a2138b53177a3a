// libFuzzer target: kubeconfigs as tmcd reads them from a tenant's Secret (inline only), the YAML
// path a hostile tenant controls.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/kubeconfig.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
  auto config = tmcd::kube::ParseInlineKubeconfig(text, "fuzz");
  if (config.ok()) (void)tmcd::kube::TokenProblem(config->token);
  return 0;
}
