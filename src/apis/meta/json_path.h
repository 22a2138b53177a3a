#pragma once
// Field paths into JSON objects, as the resource interpreter names them (docs/interpreter.md):
// ".spec.replicas", ".spec.rules[*].http.paths[*].backend.service.name",
// ".metadata.labels['batch.kubernetes.io/job-name']". Segments are object keys; "[*]" is every
// element of an array; "['...']" quotes a key holding dots or slashes. No filters, no indexes:
// what a kubectl JSONPath user would write for a field, nothing that needs evaluation.
// Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tmcd::apis {

class JsonPath {
 public:
  JsonPath() = default;
  // Parses ".a.b[*].c['d.e']"; InvalidArgument with the position on anything else.
  static Result<JsonPath> Parse(std::string_view text);
  // From segments directly ("*" = every array element): for built-in tables.
  static JsonPath Of(std::vector<std::string> segments);

  const std::vector<std::string>& segments() const { return segments_; }
  bool empty() const { return segments_.empty(); }
  bool HasWildcard() const;
  std::string String() const;
  bool StartsWith(const JsonPath& prefix) const;
  // The path without its first n segments.
  JsonPath Tail(size_t n) const;

  // Every value at the path (in document order); missing parts yield nothing.
  std::vector<const nlohmann::json*> Collect(const nlohmann::json& root) const;
  // The first value at the path, or nullptr.
  const nlohmann::json* Find(const nlohmann::json& root) const;
  // Removes every value at the path; returns how many.
  size_t Erase(nlohmann::json& root) const;
  // Sets the value (objects are created along the way); false when the path has a wildcard or
  // crosses a non-object.
  bool Set(nlohmann::json& root, nlohmann::json value) const;

  bool operator==(const JsonPath&) const = default;
  bool operator<(const JsonPath& o) const { return segments_ < o.segments_; }

 private:
  std::vector<std::string> segments_;
};

}  // namespace tmcd::apis
