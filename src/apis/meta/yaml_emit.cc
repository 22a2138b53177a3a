#include "apis/meta/yaml_emit.h"

#include <yaml-cpp/yaml.h>

#include <regex>

namespace tmcd::apis {
namespace {

bool NeedsQuotes(const std::string& s) {
  static const std::regex kSpecial(
      R"(^(|~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$)"
      R"(|^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$|^0x[0-9a-fA-F]+$|^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$)");
  return std::regex_match(s, kSpecial);
}

void Emit(YAML::Emitter& out, const OrderedJson& j) {
  switch (j.type()) {
    case OrderedJson::value_t::object:
      if (j.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      out << YAML::BeginMap;
      for (const auto& [k, v] : j.items()) {
        out << YAML::Key;
        if (NeedsQuotes(k)) out << YAML::DoubleQuoted;
        out << k << YAML::Value;
        Emit(out, v);
      }
      out << YAML::EndMap;
      return;
    case OrderedJson::value_t::array:
      if (j.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      out << YAML::BeginSeq;
      for (const auto& v : j) Emit(out, v);
      out << YAML::EndSeq;
      return;
    case OrderedJson::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (NeedsQuotes(s)) out << YAML::DoubleQuoted;
      out << s;
      return;
    }
    case OrderedJson::value_t::boolean:
      out << (j.get<bool>() ? "true" : "false");
      return;
    case OrderedJson::value_t::null:
      out << YAML::Null;
      return;
    default:
      out << j.dump();
      return;  // numbers: JSON text is valid YAML
  }
}

}  // namespace

std::string ToYaml(const OrderedJson& doc) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  Emit(out, doc);
  return std::string(out.c_str()) + "\n";
}

}  // namespace tmcd::apis
