#include "apis/meta/schema.h"

namespace tmcd::apis::detail {

void ApplyScalarOpts(OrderedJson& s, const FieldOpts& opts) {
  if (!opts.enum_values.empty()) {
    s["enum"] = OrderedJson::array();
    for (auto e : opts.enum_values) s["enum"].push_back(std::string(e));
  }
  if (opts.minimum) s["minimum"] = *opts.minimum;
  if (opts.maximum) s["maximum"] = *opts.maximum;
  if (opts.max_length > 0) s["maxLength"] = opts.max_length;
  if (!opts.pattern.empty()) s["pattern"] = std::string(opts.pattern);
  if (!opts.format.empty()) s["format"] = std::string(opts.format);
}

OrderedJson ParseDefault(std::string_view json) {
  return OrderedJson::parse(json);
}

}  // namespace tmcd::apis::detail
