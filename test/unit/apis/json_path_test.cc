// Interpreter field paths (apis/meta/json_path.h): parsing, printing, collecting through arrays,
// erasing and setting.
#include "apis/meta/json_path.h"

#include <doctest/doctest.h>

namespace tmcd::apis {
namespace {

using Json = nlohmann::json;

TEST_CASE("paths parse, print back, and refuse what they do not support") {
  auto p = JsonPath::Parse(".spec.rules[*].http.paths[*].backend.service.name");
  REQUIRE(p.ok());
  CHECK(p->segments().size() == 9);
  CHECK(p->HasWildcard());
  CHECK(p->String() == ".spec.rules[*].http.paths[*].backend.service.name");
  auto q = JsonPath::Parse(".metadata.labels['batch.kubernetes.io/job-name']");
  REQUIRE(q.ok());
  CHECK(q->segments().back() == "batch.kubernetes.io/job-name");
  CHECK(q->String() == ".metadata.labels['batch.kubernetes.io/job-name']");
  for (const char* bad : {"", "spec", ".", ".spec..x", ".spec[0]", ".spec['']", ".spec['x", ".a b", ".spec[?(@.x)]"}) {
    CAPTURE(bad);
    CHECK(!JsonPath::Parse(bad).ok());
  }
  std::string deep;
  for (int i = 0; i < 33; ++i) deep += ".a";
  CHECK(!JsonPath::Parse(deep).ok());
}

TEST_CASE("collect, find, erase and set") {
  Json doc = Json::parse(R"({"spec": {"tls": [{"secretName": "a"}, {"hosts": []}, {"secretName": "b"}],
                                      "replicas": 3}})");
  const auto tls = JsonPath::Parse(".spec.tls[*].secretName").value();
  auto found = tls.Collect(doc);
  REQUIRE(found.size() == 2);
  CHECK(*found[0] == "a");
  CHECK(*found[1] == "b");
  const auto replicas = JsonPath::Parse(".spec.replicas").value();
  REQUIRE(replicas.Find(doc) != nullptr);
  CHECK(*replicas.Find(doc) == 3);
  CHECK(JsonPath::Parse(".spec.missing.deeper").value().Find(doc) == nullptr);
  CHECK(JsonPath::Parse(".spec.replicas.x").value().Find(doc) == nullptr);  // through a number: nothing
  CHECK(tls.Erase(doc) == 2);
  CHECK(doc["spec"]["tls"] == Json::parse(R"([{}, {"hosts": []}, {}])"));
  CHECK(replicas.Erase(doc) == 1);
  CHECK(!doc["spec"].contains("replicas"));
  Json out = Json::object();
  CHECK(JsonPath::Parse(".loadBalancer.ingress").value().Set(out, Json::array()));
  CHECK(out == Json::parse(R"({"loadBalancer": {"ingress": []}})"));
  CHECK(!tls.Set(out, 1));  // wildcards cannot be set
  Json scalar = 5;
  CHECK(!replicas.Set(scalar, 1));
}

}  // namespace
}  // namespace tmcd::apis
