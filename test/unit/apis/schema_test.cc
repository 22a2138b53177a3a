#include "apis/meta/schema.h"

#include <doctest/doctest.h>

#include "apis/meta/codec.h"
#include "apis/meta/condition.h"
#include "apis/meta/selector.h"
#include "apis/meta/validate.h"
#include "apis/meta/yaml_emit.h"

namespace tmcd::apis {
namespace {

TEST_CASE("schemas come from the same declarations as the codec") {
  OrderedJson s = SchemaFor<LabelSelector>(FieldOpts{});
  CHECK(s["type"] == "object");
  CHECK(s["properties"]["matchLabels"]["additionalProperties"]["maxLength"] == 63);
  auto expr = s["properties"]["matchExpressions"]["items"];
  CHECK(expr["required"] == OrderedJson::array({"key", "operator"}));
  CHECK(expr["properties"]["operator"]["enum"].size() == 4);
  CHECK(expr["properties"]["values"]["items"]["maxLength"] == 63);
  CHECK(s["properties"]["matchExpressions"]["maxItems"] == 32);
  CHECK(SchemaFor<ObjectMeta>(FieldOpts{}) == OrderedJson{{"type", "object"}});
  OrderedJson conds = SchemaFor<std::vector<Condition>>(FieldOpts{.list_map_key = "type"});
  CHECK(conds["x-kubernetes-list-type"] == "map");
  CHECK(conds["items"]["properties"]["lastTransitionTime"]["format"] == "date-time");
}

TEST_CASE("object metadata decodes strictly and validates labels and finalizers") {
  ObjectMeta m;
  FieldErrors errs;
  REQUIRE(DecodeJson(R"({"name":"a","labels":{"x":"y"},"finalizers":["a/b"],"ownerReferences":[)"
                     R"({"apiVersion":"v1","kind":"K","name":"n","uid":"u","controller":false}],"bogus":1})",
                     m, errs)
              .ok());
  REQUIRE(errs.size() == 1);
  CHECK(errs.errors()[0].Message() == "unknown field \"bogus\"");
  CHECK(m.owner_references.at(0).controller == false);  // optional<bool> false is kept
  CHECK(EncodeJson(m).find("\"controller\":false") != std::string::npos);
  m.annotations["big"] = std::string(300 * 1024, 'x');
  FieldErrors verrs;
  ValidateFields(m, verrs);
  REQUIRE(verrs.size() == 1);
  CHECK(verrs.errors()[0].Message() == "annotations: Too long: may not be more than 262144 bytes");
}

TEST_CASE("YAML output quotes what YAML 1.1 would misread") {
  OrderedJson doc = {
      {"a", "True"}, {"b", "no"}, {"c", "1.5"}, {"d", "text"}, {"e", true}, {"f", 3}, {"g", OrderedJson::array()},
      {"h", ""},     {"i", "~"}};
  std::string y = ToYaml(doc);
  CHECK(y.find("a: \"True\"") != std::string::npos);
  CHECK(y.find("b: \"no\"") != std::string::npos);
  CHECK(y.find("c: \"1.5\"") != std::string::npos);
  CHECK(y.find("d: text") != std::string::npos);
  CHECK(y.find("e: true") != std::string::npos);
  CHECK(y.find("f: 3") != std::string::npos);
  CHECK(y.find("g: []") != std::string::npos);
  CHECK(y.find("h: \"\"") != std::string::npos);
  CHECK(y.find("i: \"~\"") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::apis
