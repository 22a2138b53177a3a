#pragma once
// Cell helpers shared by the built-in printers (printers.cc, printers_workloads.cc): null-safe field
// access and kube's formatting of ages, labels and "<none>". Internal to src/api/. Pure; thread-safe.

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "api/printers.h"
#include "api/table.h"
#include "apis/meta/time.h"

namespace tmcd::api::printing {

using Json = nlohmann::json;
using TimePoint = std::chrono::system_clock::time_point;

inline std::string JoinMap(const std::multimap<std::string, std::string>& parts) {
  std::string out;
  for (const auto& [key, text] : parts) out += (out.empty() ? "" : ",") + text;
  return out;
}

inline const Json& Field(const Json& obj, const char* a, const char* b = nullptr) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  const auto x = obj.find(a);
  if (x == obj.end()) return kNull;
  if (b == nullptr) return *x;
  return Field(*x, b);
}

inline int64_t Int(const Json& v, int64_t def = 0) {
  return v.is_number_integer() ? v.get<int64_t>() : def;
}
inline std::string Str(const Json& v, const std::string& def = "") {
  return v.is_string() ? v.get<std::string>() : def;
}
inline int64_t Count(const Json& v) {
  return v.is_object() || v.is_array() ? static_cast<int64_t>(v.size()) : 0;
}

inline std::string Age(const Json& obj, TimePoint now) {
  auto t = apis::Time::Parse(Str(Field(obj, "metadata", "creationTimestamp")));
  if (!t.ok()) return "<unknown>";
  return HumanAge(std::chrono::duration_cast<std::chrono::seconds>(now - TimePoint(std::chrono::seconds(t->seconds))));
}

inline std::string OrNone(const std::string& s) {
  return s.empty() ? "<none>" : s;
}

// labels.FormatLabels: "k=v" sorted by key.
inline std::string FormatLabels(const Json& labels) {
  std::multimap<std::string, std::string> parts;
  if (labels.is_object()) {
    for (auto it = labels.begin(); it != labels.end(); ++it) parts.emplace(it.key(), it.key() + "=" + Str(*it));
  }
  return JoinMap(parts);
}

// The age of an RFC 3339 time field, or "" when absent.
inline std::string Since(const Json& time, TimePoint now) {
  auto t = apis::Time::Parse(Str(time));
  if (!t.ok()) return "";
  return HumanAge(std::chrono::duration_cast<std::chrono::seconds>(now - TimePoint(std::chrono::seconds(t->seconds))));
}

// layoutContainerCells: the containers' names and images, comma-separated.
inline std::pair<std::string, std::string> ContainerCells(const Json& pod_template) {
  std::string names, images;
  const Json& containers = Field(Field(pod_template, "spec"), "containers");
  if (!containers.is_array()) return {names, images};
  for (const auto& c : containers) {
    names += (names.empty() ? "" : ",") + Str(Field(c, "name"));
    images += (images.empty() ? "" : ",") + Str(Field(c, "image"));
  }
  return {names, images};
}

// Built-in printers of the workload kinds (printers_workloads.cc).
BuiltinPrinter StatefulSetPrinter();
BuiltinPrinter DaemonSetPrinter();
BuiltinPrinter ReplicaSetPrinter();
BuiltinPrinter JobPrinter();
BuiltinPrinter CronJobPrinter();
BuiltinPrinter IngressPrinter();
BuiltinPrinter NetworkPolicyPrinter();
BuiltinPrinter PersistentVolumeClaimPrinter();
BuiltinPrinter PodDisruptionBudgetPrinter();
BuiltinPrinter EventPrinter();

}  // namespace tmcd::api::printing
