#pragma once
// Label selectors: the JSON form (metav1.LabelSelector) and the string form of the API's
// ?labelSelector= parameter (k8s.io/apimachinery/pkg/labels), both compiled into one Selector that
// matches label sets. Value types; Selector is immutable after construction (thread-safe to share).

#include <array>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "apis/meta/field_errors.h"
#include "apis/meta/reflect.h"
#include "common/status.h"

namespace tmcd::apis {

using Labels = std::map<std::string, std::string>;

inline constexpr std::array<std::string_view, 4> kSelectorOperators = {"In", "NotIn", "Exists", "DoesNotExist"};

struct LabelSelectorRequirement {
  std::string key;
  std::string op;  // In | NotIn | Exists | DoesNotExist
  std::vector<std::string> values;
  bool operator==(const LabelSelectorRequirement&) const = default;
};

template <class V>
void Reflect(V& v, LabelSelectorRequirement& o) {
  v.Field("key", o.key, {.doc = "The label key the selector applies to.", .required = true, .max_length = 317});
  v.Field("operator", o.op,
          {.doc = "In, NotIn, Exists or DoesNotExist.", .required = true, .enum_values = kSelectorOperators});
  v.Field("values", o.values,
          {.doc = "Values for In/NotIn; must be empty for Exists/DoesNotExist.", .max_length = 63, .max_items = 64});
}

struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
  bool operator==(const LabelSelector&) const = default;
};

template <class V>
void Reflect(V& v, LabelSelector& o) {
  v.Field("matchLabels", o.match_labels, {.doc = "Equality requirements, ANDed.", .max_length = 63, .max_items = 64});
  v.Field("matchExpressions", o.match_expressions, {.doc = "Set-based requirements, ANDed.", .max_items = 32});
}

void CheckRules(const LabelSelector& s, const std::string& path, FieldErrors& errs);

class Selector {
 public:
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist, kEquals, kDoubleEquals, kNotEquals, kGreaterThan, kLessThan };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;  // sorted, unique
    bool Matches(const Labels& labels) const;
    std::string String() const;
  };

  // Matches every label set.
  static Selector Everything() { return {}; }
  // Matches nothing (a nil selector where "nil selects nothing").
  static Selector Nothing();
  // The string grammar: "a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3". Errors say what and where.
  static Result<Selector> Parse(std::string_view s);
  static Result<Selector> FromLabelSelector(const LabelSelector& ls);

  bool Matches(const Labels& labels) const;
  bool IsEverything() const { return !nothing_ && reqs_.empty(); }
  // Canonical string form: requirements sorted by key, set values sorted.
  std::string String() const;
  const std::vector<Requirement>& requirements() const { return reqs_; }

 private:
  Status Add(Requirement r);
  std::vector<Requirement> reqs_;
  bool nothing_ = false;
};

// The string form kubectl prints for a metav1.LabelSelector given as JSON ("app=web,tier in (a,b)"):
// requirements sorted by key, values of In/NotIn sorted; "" for a null or empty selector.
std::string LabelSelectorString(const nlohmann::json& selector);

}  // namespace tmcd::apis
