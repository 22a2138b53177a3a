#include "apis/meta/object_meta.h"

#include <set>

#include "apis/meta/names.h"
#include "common/strings.h"

namespace tmcd::apis {
namespace {
constexpr size_t kTotalAnnotationSizeLimit = size_t{256} * 1024;
}

void CheckRules(const ObjectMeta& m, const std::string& path, FieldErrors& errs) {
  const std::string labels = JoinPath(path, "labels");
  for (const auto& [k, v] : m.labels) {
    for (const auto& msg : CheckQualifiedName(k)) errs.Invalid(labels, Quote(k), msg);
    for (const auto& msg : CheckLabelValue(v)) errs.Invalid(KeyPath(labels, k), Quote(v), msg);
  }
  const std::string annotations = JoinPath(path, "annotations");
  size_t total = 0;
  for (const auto& [k, v] : m.annotations) {
    for (const auto& msg : CheckQualifiedName(ToLower(k))) errs.Invalid(annotations, Quote(k), msg);
    total += k.size() + v.size();
  }
  if (total > kTotalAnnotationSizeLimit) {
    errs.TooLong(annotations, kTotalAnnotationSizeLimit);
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < m.finalizers.size(); ++i) {
    const auto& f = m.finalizers[i];
    const std::string fp = IndexPath(JoinPath(path, "finalizers"), i);
    for (const auto& msg : CheckQualifiedName(f)) errs.Invalid(fp, Quote(f), msg);
    if (!seen.insert(f).second) errs.Duplicate(fp, Quote(f));
  }
  if (m.generation < 0) errs.Invalid(JoinPath(path, "generation"), std::to_string(m.generation), "must be >= 0");
}

void CheckObjectName(const ObjectMeta& m, bool label_rule, const std::string& path, FieldErrors& errs) {
  const std::string name_path = JoinPath(path, "name");
  if (m.name.empty()) {
    if (m.generate_name.empty()) errs.Required(name_path, "name or generateName is required");
    return;
  }
  auto problems = label_rule ? CheckDNS1123Label(m.name) : CheckDNS1123Subdomain(m.name);
  for (const auto& msg : problems) errs.Invalid(name_path, Quote(m.name), msg);
}

}  // namespace tmcd::apis
