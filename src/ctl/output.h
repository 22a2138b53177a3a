#pragma once
// tmcctl's output (docs/tmcctl.md "Output"): kubectl's table layout (upper-case headers, columns
// padded to their widest cell plus three spaces), `-o wide|json|yaml|name`, and kubectl's ages.
// Pure; thread-safe.

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tmcd::ctl {

using Json = nlohmann::json;

enum class Format { kTable, kWide, kJson, kYaml, kName };

// "", "table", "wide", "json", "yaml", "name"; anything else is a usage error naming the choices.
Result<Format> ParseFormat(std::string_view s);

struct Table {
  std::vector<std::string> headers;
  std::vector<bool> wide_only;  // per header; empty = none
  std::vector<std::vector<std::string>> rows;
};

// The table (kubectl's printer); `wide` keeps the wide-only columns. Callers print kubectl's
// "No resources found" message instead of an empty table.
std::string RenderTable(const Table& t, bool wide);
// Objects as `-o json|yaml|name` print them: one object as itself, several (or a list command's
// result when `as_list`) as a v1 List; name: kubectl's "<kind>.<group>/<name>" per line.
std::string RenderObjects(const std::vector<Json>& items, Format f, bool as_list);
// kubectl's HumanDuration of now - `rfc3339` ("<unknown>" when unset or malformed).
std::string Age(std::string_view rfc3339, std::chrono::system_clock::time_point now);
std::string HumanDuration(std::chrono::seconds d);
// A quantity of bytes in whole binary units as Kubernetes prints them ("68719476736" → "64Gi");
// anything else unchanged.
std::string BinaryQuantity(const std::string& q);
// The value at `p` as text: a string as itself, other values as JSON, "" when absent.
std::string Text(const Json& obj, const Json::json_pointer& p);
// JSON → YAML in block style (keys in the object's order).
std::string ToYaml(const Json& j);

}  // namespace tmcd::ctl
