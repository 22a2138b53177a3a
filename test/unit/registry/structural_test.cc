// Custom resources against structural schemas (registry/structural.h): defaults, pruning or unknown-field
// errors, and every value check tmcd enforces.
#include "registry/structural.h"

#include <doctest/doctest.h>

namespace tmcd::registry {
namespace {

using Json = nlohmann::json;

const Json kSchema = Json::parse(R"({
  "type": "object",
  "properties": {
    "spec": {"type": "object", "required": ["color"], "properties": {
      "size": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
      "color": {"type": "string", "enum": ["red", "blue"]},
      "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
      "port": {"x-kubernetes-int-or-string": true},
      "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set", "maxItems": 3},
      "labels": {"type": "object", "additionalProperties": {"type": "string"}},
      "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
      "when": {"type": "string", "format": "date-time"},
      "ratio": {"type": "number", "anyOf": [{"minimum": 0, "maximum": 1}, {"minimum": 100}]}}},
    "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}})");

TEST_CASE("a structural schema defaults, prunes or reports, and validates") {
  Json obj = {{"apiVersion", "example.com/v1"},
              {"kind", "Widget"},
              {"metadata", {{"name", "w"}}},
              {"spec", {{"color", "red"}, {"port", "http"}, {"free", {{"any", {{"thing", 1}}}}}, {"extra", 1}}}};
  apis::FieldErrors errs;
  ApplySchema(kSchema, obj, {}, errs);
  REQUIRE(errs.size() == 1);  // strict: the unknown field is an error, nothing is dropped
  CHECK(errs.errors()[0].Message() == "unknown field \"spec.extra\"");
  CHECK(obj["spec"]["size"] == 3);                  // defaulted
  CHECK(obj["spec"]["free"]["any"]["thing"] == 1);  // preserved

  std::vector<std::string> pruned;
  errs = apis::FieldErrors();
  ApplySchema(kSchema, obj, {.prune = true, .pruned = &pruned}, errs);
  CHECK(errs.empty());
  CHECK(pruned == std::vector<std::string>{"spec.extra"});
  CHECK_FALSE(obj["spec"].contains("extra"));

  Json bad = {{"spec",
               {{"size", 11},
                {"color", "green"},
                {"name", "ABCDEFG"},
                {"port", true},
                {"tags", {"a", "a"}},
                {"labels", {{"k", 1}}},
                {"when", "yesterday"},
                {"ratio", 5}}},
              {"status", {{"replicas", "two"}}}};
  errs = apis::FieldErrors();
  ApplySchema(kSchema, bad, {}, errs);
  const std::string all = errs.Summary();
  CAPTURE(all);
  CHECK(all.find("spec.size: Invalid value: 11: should be less than or equal to 10") != std::string::npos);
  CHECK(all.find("spec.color: Unsupported value: \"green\"") != std::string::npos);
  CHECK(all.find("spec.name: Too long") != std::string::npos);
  CHECK(all.find("should match \"^[a-z]+$\"") != std::string::npos);
  CHECK(all.find("spec.port: Invalid value: true: must be an integer or a string") != std::string::npos);
  CHECK(all.find("spec.tags[1]: Duplicate value") != std::string::npos);
  CHECK(all.find("spec.labels.k: Invalid value: 1: must be of type string") != std::string::npos);
  CHECK(all.find("spec.when: Invalid value: \"yesterday\": must be of format date-time") != std::string::npos);
  CHECK(all.find("spec.ratio: Invalid value: 5: must validate at least one schema (anyOf)") != std::string::npos);
  CHECK(all.find("status.replicas: Invalid value: \"two\": must be of type integer") != std::string::npos);

  Json missing = {{"spec", Json::object()}};
  errs = apis::FieldErrors();
  ApplySchema(kSchema, missing, {}, errs);
  CHECK(errs.Summary() == "spec.color: Required value");
  // A hostile string is not matched against a pattern (std::regex recurses), and nothing crashes.
  Json huge = {{"spec", {{"color", "red"}, {"name", std::string(1 << 20, 'a')}}}};
  errs = apis::FieldErrors();
  ApplySchema(kSchema, huge, {}, errs);
  CHECK(errs.Summary().find("too long to match against the pattern") != std::string::npos);
}

TEST_CASE("a schema keyword of the wrong JSON type is refused before anything reads it") {
  for (const char* bad : {R"({"type": "object", "properties": {"n": {"type": "integer", "exclusiveMaximum": 5}}})",
                          R"({"type": 5})", R"({"type": "object", "required": "n"})",
                          R"({"type": "object", "properties": {"n": {"type": "string", "maxLength": -1}}})",
                          R"({"type": "object", "properties": {"l": {"type": "array", "items": {"type": "object"},
                              "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [1]}}})"}) {
    CAPTURE(bad);
    apis::FieldErrors errs;
    CheckStructural(Json::parse(bad), "schema", errs);
    CHECK_FALSE(errs.empty());
  }
  apis::FieldErrors errs;
  CheckStructural(kSchema, "schema", errs);
  CHECK_MESSAGE(errs.empty(), errs.Summary());
}

}  // namespace
}  // namespace tmcd::registry
