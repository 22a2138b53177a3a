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
                            Varint((uint64_t{42} << 3) | 0) + Varint(7);  // an unknown varint field is skipped
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

TEST_CASE("malformed and unsupported protobuf bodies are 400 and 415, never a crash") {
  CHECK(DecodeKubeProtobuf("{}").status().reason() == Reason::kBadRequest);
  const std::string good = Envelope("v1", "SelfSubjectRulesReview", Bytes(2, Bytes(1, "x")));
  for (size_t cut = 4; cut < good.size(); ++cut) {
    auto r = DecodeKubeProtobuf(good.substr(0, cut));  // every truncation
    CHECK(
        (r.ok() || r.status().reason() == Reason::kBadRequest || r.status().reason() == Reason::kUnsupportedMediaType));
  }
  auto cm = DecodeKubeProtobuf(Envelope("v1", "ConfigMap", Bytes(1, "")));
  CHECK(cm.status().reason() == Reason::kUnsupportedMediaType);
  CHECK(cm.status().message().find("send application/json") != std::string::npos);
  // A string where a message belongs.
  auto wrong = DecodeKubeProtobuf(Envelope("v1", "SelfSubjectAccessReview", Varint((2 << 3) | 0) + Varint(1)));
  CHECK(wrong.status().message().find("wire type") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::api
