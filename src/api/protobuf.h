#pragma once
// Kubernetes protobuf request bodies (the "k8s\0" envelope around a runtime.Unknown), decoded to the
// JSON the rest of the API layer works on. kubectl and client-go send built-in kinds as protobuf;
// answers stay JSON, which client-go reads by the response's Content-Type.
//
// Decoding is driven by a table of message descriptors (field number → JSON name and type) taken
// from the published Kubernetes API definitions; today it covers the kinds kubectl sends to tmcd for
// authorization (SelfSubjectAccessReview, SelfSubjectRulesReview). Other kinds get 415 with a
// message naming what is accepted. Unknown fields are skipped, as protobuf readers do. Pure;
// thread-safe.

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"

namespace tmcd::api {

inline constexpr std::string_view kProtobufContentType = "application/vnd.kubernetes.protobuf";

// The object in `body` as JSON with apiVersion and kind from the envelope. Errors: BadRequest for a
// malformed body, UnsupportedMediaType for a kind without a descriptor.
Result<nlohmann::json> DecodeKubeProtobuf(std::string_view body);

}  // namespace tmcd::api
