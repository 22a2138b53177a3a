// RFC 6902 JSON Patch as the API applies it: the operations nlohmann would abort on (add, copy or
// move under a string, number or boolean) are refused with a status; the rest behave as RFC 6902.
#include "common/json_patch.h"

#include <doctest/doctest.h>

namespace tmcd {
namespace {

using Json = nlohmann::json;

const Json kDoc =
    Json::parse(R"({"kind":"ConfigMap","metadata":{"name":"c","n":1,"b":true},"data":{"k":"v"},"l":[1]})");

TEST_CASE("a patch that would make nlohmann abort is refused") {
  for (const char* ops :
       {R"([{"op":"add","path":"/kind/x","value":"1"}])", R"([{"op":"add","path":"/metadata/n/x","value":1}])",
        R"([{"op":"copy","from":"/data","path":"/metadata/b/y"}])",
        R"([{"op":"move","from":"/data/k","path":"/metadata/name/z"}])",
        R"([{"op":"replace","path":"/data","value":"s"},{"op":"add","path":"/data/k","value":1}])"}) {
    CAPTURE(ops);
    auto r = ApplyJsonPatch(kDoc, Json::parse(ops));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == Reason::kInvalid);
    CHECK(r.status().message().find("is not an object or an array") != std::string::npos);
  }
}

TEST_CASE("ordinary patches apply in order; malformed ones are refused") {
  auto r = ApplyJsonPatch(kDoc, Json::parse(R"([{"op":"add","path":"/data/x","value":"1"},
      {"op":"move","from":"/data/x","path":"/metadata/x"},{"op":"add","path":"/l/-","value":2},
      {"op":"test","path":"/l/1","value":2},{"op":"remove","path":"/kind"}])"));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK((*r)["metadata"]["x"] == "1");
  CHECK((*r)["l"] == Json::array({1, 2}));
  CHECK_FALSE(r->contains("kind"));
  CHECK(ApplyJsonPatch(kDoc, Json::parse(R"([{"op":"add","path":"","value":{"a":1}}])"))->at("a") == 1);
  for (const char* bad : {R"({"op":"add"})", R"([{"op":"add","path":"/missing/x","value":1}])",
                          R"([{"op":"test","path":"/kind","value":"Other"}])", R"([{"path":"/kind"}])",
                          R"([{"op":"add","path":"no-slash","value":1}])", R"([1])"}) {
    CAPTURE(bad);
    auto refused = ApplyJsonPatch(kDoc, Json::parse(bad));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().message().rfind("the JSON patch could not be applied: ", 0) == 0);
  }
}

}  // namespace
}  // namespace tmcd
