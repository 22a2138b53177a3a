// Kubernetes protobuf request bodies: the k8s envelope, nested messages, skipped unknown fields,
// and the errors for truncated bodies and kinds without a descriptor.
#include "api/protobuf.h"

#include <doctest/doctest.h>

#include <string>

namespace tmcd::api {
namespace {

std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}

std::string Bytes(uint32_t field, const std::string& data) {
  return Varint((uint64_t{field} << 3) | 2) + Varint(data.size()) + data;
}

std::string Envelope(const std::string& api_version, const std::string& kind, const std::string& raw) {
  const std::string type_meta = Bytes(1, api_version) + Bytes(2, kind);
  return std::string("k8s\0", 4) + Bytes(1, type_meta) + Bytes(2, raw) +
         Bytes(4, "application/vnd.kubernetes.protobuf");
}

TEST_CASE("a SelfSubjectAccessReview as kubectl sends it decodes to its JSON form") {
  const std::string attrs = Bytes(1, "shop") + Bytes(2, "list") + Bytes(3, "apps") + Bytes(5, "deployments") +
                            Bytes(7, "");  // an empty name (omitempty in JSON) is left out
  const std::string review = Bytes(1, "") + Bytes(2, Bytes(1, attrs));
  auto obj = DecodeKubeProtobuf(Envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", review));
  REQUIRE(obj.ok());
  CHECK((*obj)["kind"] == "SelfSubjectAccessReview");
  CHECK((*obj)["apiVersion"] == "authorization.k8s.io/v1");
  const auto& ra = (*obj)["spec"]["resourceAttributes"];
  CHECK(ra == nlohmann::json{{"namespace", "shop"}, {"verb", "list"}, {"group", "apps"}, {"resource", "deployments"}});
  auto rules =
      DecodeKubeProtobuf(Envelope("authorization.k8s.io/v1", "SelfSubjectRulesReview", Bytes(2, Bytes(1, "x"))));
  REQUIRE(rules.ok());
  CHECK((*rules)["spec"]["namespace"] == "x");
}

std::string MapEntry(uint32_t field, const std::string& k, const std::string& v) {
  return Bytes(field, Bytes(1, k) + Bytes(2, v));
}

TEST_CASE("built-in kinds: maps, bytes as base64, times, int-or-string, packed and inline fields") {
  const std::string meta = Bytes(1, "cfg") + Bytes(2, "") + Bytes(8, "") + MapEntry(11, "app", "web");
  auto cm = DecodeKubeProtobuf(Envelope(
      "v1", "ConfigMap", Bytes(1, meta) + MapEntry(2, "a", "1") + MapEntry(3, "bin", std::string("\0\xff", 2))));
  REQUIRE_MESSAGE(cm.ok(), cm.status().ToString());
  CHECK(*cm == nlohmann::json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","data":{"a":"1"},
    "binaryData":{"bin":"AP8="},"metadata":{"name":"cfg","labels":{"app":"web"}}})"));  // a zero creationTimestamp is
                                                                                        // omitzero
  // Service: a port's targetPort as IntOrString (type 1 = string), type and selector.
  const std::string port = Bytes(1, "http") + Varint((3 << 3) | 0) + Varint(80) +
                           Bytes(4, Varint((1 << 3) | 0) + Varint(1) + Bytes(3, "web"));
  auto svc = DecodeKubeProtobuf(
      Envelope("v1", "Service", Bytes(1, Bytes(1, "s")) + Bytes(2, Bytes(1, port) + MapEntry(2, "app", "web"))));
  REQUIRE_MESSAGE(svc.ok(), svc.status().ToString());
  CHECK((*svc)["spec"]["ports"][0] == nlohmann::json::parse(R"({"name":"http","port":80,"targetPort":"web"})"));
  // Volume inlines its VolumeSource (emptyDir is field 2 of VolumeSource); replicas 0 is kept.
  const std::string volume = Bytes(1, "scratch") + Bytes(2, Bytes(2, ""));
  const std::string pod = Bytes(1, volume) + Bytes(2, Bytes(1, "c") + Bytes(2, "nginx"));
  const std::string spec = Varint((1 << 3) | 0) + Varint(0) + Bytes(3, Bytes(2, pod));
  auto d = DecodeKubeProtobuf(Envelope("apps/v1", "Deployment", Bytes(1, Bytes(1, "d")) + Bytes(2, spec)));
  REQUIRE_MESSAGE(d.ok(), d.status().ToString());
  CHECK((*d)["spec"]["replicas"] == 0);
  CHECK((*d)["spec"]["template"]["spec"]["volumes"][0] == nlohmann::json::parse(R"({"name":"scratch","emptyDir":{}})"));
  CHECK((*d)["spec"]["template"]["spec"]["containers"][0] == nlohmann::json::parse(R"({"name":"c","image":"nginx"})"));
  // A Time: seconds since the epoch → RFC 3339.
  auto ns = DecodeKubeProtobuf(Envelope("v1", "Namespace", Bytes(1, Bytes(9, Varint((1 << 3) | 0) + Varint(86400)))));
  REQUIRE(ns.ok());
  CHECK((*ns)["metadata"]["deletionTimestamp"] == "1970-01-02T00:00:00Z");
}

TEST_CASE("DeleteOptions under any group/version and autoscaling/v1 Scale") {
  auto del = DecodeKubeProtobuf(Envelope("apps/v1", "DeleteOptions", Bytes(4, "Foreground")));
  REQUIRE_MESSAGE(del.ok(), del.status().ToString());
  CHECK((*del)["propagationPolicy"] == "Foreground");
  auto scale = DecodeKubeProtobuf(Envelope("autoscaling/v1", "Scale", Bytes(2, Varint((1 << 3) | 0) + Varint(5))));
  REQUIRE_MESSAGE(scale.ok(), scale.status().ToString());
  CHECK((*scale)["spec"]["replicas"] == 5);
}

TEST_CASE("malformed and unsupported protobuf bodies are 400 and 415, never a crash") {
  CHECK(DecodeKubeProtobuf("{}").status().reason() == Reason::kBadRequest);
  const std::string good = Envelope("v1", "SelfSubjectRulesReview", Bytes(2, Bytes(1, "x")));
  for (size_t cut = 4; cut < good.size(); ++cut) {
    auto r = DecodeKubeProtobuf(good.substr(0, cut));  // every truncation
    CHECK(
        (r.ok() || r.status().reason() == Reason::kBadRequest || r.status().reason() == Reason::kUnsupportedMediaType));
  }
  auto job = DecodeKubeProtobuf(Envelope("batch/v1", "Job", Bytes(1, "")));
  CHECK(job.status().reason() == Reason::kUnsupportedMediaType);
  CHECK(job.status().message().find("send application/json") != std::string::npos);
  // A field number the 1.35 schema does not know is refused rather than dropped.
  auto unknown = DecodeKubeProtobuf(Envelope("v1", "ConfigMap", Varint((uint64_t{42} << 3) | 0) + Varint(7)));
  CHECK(unknown.status().reason() == Reason::kBadRequest);
  CHECK(unknown.status().message().find("field 42 of ConfigMap") != std::string::npos);
  // A string where a message belongs.
  auto wrong = DecodeKubeProtobuf(
      Envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", Varint((2 << 3) | 0) + Varint(1)));
  CHECK(wrong.status().message().find("wire type") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::api
