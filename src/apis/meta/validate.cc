#include "apis/meta/validate.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <regex>

#include "common/strings.h"

namespace tmcd::apis::detail {
namespace {

// Compiled patterns, by pattern text. std::regex compilation is slow; patterns are a small fixed set
// from FieldOpts literals. Guarded by a mutex; a compiled regex is immutable, so matching is safe
// after the lookup without the lock.
const std::regex& CompiledPattern(std::string_view pattern) {
  static std::mutex mu;
  static std::map<std::string, std::regex, std::less<>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(pattern);
  if (it == cache.end()) it = cache.emplace(std::string(pattern), std::regex(std::string(pattern))).first;
  return it->second;
}

}  // namespace

void CheckString(const std::string& v, const std::string& path, const FieldOpts& opts, FieldErrors& errs) {
  if (v.empty()) {
    if (opts.required) errs.Required(path);
    return;
  }
  if (!opts.enum_values.empty() &&
      std::find(opts.enum_values.begin(), opts.enum_values.end(), v) == opts.enum_values.end()) {
    errs.NotSupported(path, Quote(v), {opts.enum_values.begin(), opts.enum_values.end()});
    return;
  }
  if (opts.max_length > 0 && v.size() > opts.max_length) {
    errs.TooLong(path, opts.max_length);
    return;
  }
  if (!opts.pattern.empty() && !std::regex_search(v, CompiledPattern(opts.pattern))) {
    errs.Invalid(path, Quote(v), "must match the regular expression " + std::string(opts.pattern));
  }
}

void CheckInt(int64_t v, const std::string& path, const FieldOpts& opts, FieldErrors& errs) {
  if (opts.minimum && v < *opts.minimum) {
    errs.Invalid(path, std::to_string(v), "must be greater than or equal to " + std::to_string(*opts.minimum));
  }
  if (opts.maximum && v > *opts.maximum) {
    errs.Invalid(path, std::to_string(v), "must be less than or equal to " + std::to_string(*opts.maximum));
  }
}

void CheckQuantity(const Quantity& v, const std::string& path, const FieldOpts& opts, FieldErrors& errs) {
  if (v.empty()) {
    if (opts.required) errs.Required(path);
    return;
  }
  if (opts.minimum && *opts.minimum == 0 && v.IsNegative()) {
    errs.Invalid(path, Quote(v.str()), "must be greater than or equal to 0");
  }
}

}  // namespace tmcd::apis::detail
