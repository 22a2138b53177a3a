// libFuzzer target: JSON decoding of every TMC API type as the API decodes a client's body (strict
// decode, defaults, validation), plus the re-encoding of what was accepted, which must decode again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "apis/tmc/v1alpha1/cluster_registration.h"
#include "apis/tmc/v1alpha1/register.h"
#include "apis/tmc/v1alpha1/sync_record.h"
#include "apis/tmc/v1alpha1/workload_placement.h"

namespace {

template <class T>
void RoundTrip(std::string_view json) {
  auto obj = tmcd::apis::v1alpha1::DecodeObject<T>(json);
  if (!obj.ok()) return;
  const std::string again = tmcd::apis::EncodeJson(*obj);
  if (!tmcd::apis::v1alpha1::DecodeStored<T>(again).ok()) std::abort();  // what we wrote must read back
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
  RoundTrip<tmcd::apis::v1alpha1::ClusterRegistration>(json);
  RoundTrip<tmcd::apis::v1alpha1::WorkloadPlacement>(json);
  RoundTrip<tmcd::apis::v1alpha1::SyncRecord>(json);
  return 0;
}
