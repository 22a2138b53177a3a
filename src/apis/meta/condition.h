#pragma once
// metav1.Condition and the helpers controllers use. lastTransitionTime changes only when status
// changes (Kubernetes convention); reason/message/observedGeneration update in place.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "apis/meta/field_errors.h"
#include "apis/meta/reflect.h"
#include "apis/meta/time.h"

namespace tmcd::apis {

inline constexpr std::string_view kConditionTrue = "True";
inline constexpr std::string_view kConditionFalse = "False";
inline constexpr std::string_view kConditionUnknown = "Unknown";
inline constexpr std::array<std::string_view, 3> kConditionStatuses = {kConditionTrue, kConditionFalse,
                                                                       kConditionUnknown};

struct Condition {
  std::string type;
  std::string status;
  int64_t observed_generation = 0;
  Time last_transition_time;
  std::string reason;
  std::string message;
  bool operator==(const Condition&) const = default;
};

template <class V>
void Reflect(V& v, Condition& o) {
  v.Field(
      "type", o.type,
      {.doc = "Type of condition in CamelCase.",
       .required = true,
       .max_length = 316,
       .pattern =
           R"(^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$)"});
  v.Field("status", o.status, {.doc = "True, False or Unknown.", .required = true, .enum_values = kConditionStatuses});
  v.Field("observedGeneration", o.observed_generation,
          {.doc = "The .metadata.generation the condition was set from.", .minimum = 0});
  v.Field("lastTransitionTime", o.last_transition_time,
          {.doc = "When the status last changed.", .required = true, .format = "date-time"});
  v.Field("reason", o.reason,
          {.doc = "Machine-readable CamelCase reason for the last transition.",
           .required = true,
           .max_length = 1024,
           .pattern = R"(^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$)"});
  v.Field("message", o.message,
          {.doc = "Human-readable details.", .required = true, .max_length = 32768, .keep_empty = true});
}

// Duplicate condition types in one list.
void CheckConditionList(const std::vector<Condition>& list, const std::string& path, FieldErrors& errs);

// A condition with the given fields (lastTransitionTime is left to SetCondition).
Condition MakeCondition(std::string_view type, std::string_view status, std::string reason, std::string message,
                        int64_t observed_generation);
const Condition* FindCondition(const std::vector<Condition>& list, std::string_view type);
bool IsConditionTrue(const std::vector<Condition>& list, std::string_view type);
// Inserts or updates `c` (matched by type). `now` becomes lastTransitionTime when the condition is
// new or its status changed; otherwise the old time is kept. Returns true if the list changed.
bool SetCondition(std::vector<Condition>& list, Condition c, const Time& now);
bool RemoveCondition(std::vector<Condition>& list, std::string_view type);

}  // namespace tmcd::apis
