#pragma once
// metav1.ObjectMeta and OwnerReference, strict: every field the API server accepts from clients is
// known (so unknown keys under metadata are rejected like everywhere else). Value types.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "apis/meta/field_errors.h"
#include "apis/meta/reflect.h"
#include "apis/meta/time.h"

namespace tmcd::apis {

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  std::optional<bool> controller;
  std::optional<bool> block_owner_deletion;
  bool operator==(const OwnerReference&) const = default;
};

template <class V>
void Reflect(V& v, OwnerReference& o) {
  v.Field("apiVersion", o.api_version, {.required = true});
  v.Field("kind", o.kind, {.required = true});
  v.Field("name", o.name, {.required = true});
  v.Field("uid", o.uid, {.required = true});
  v.Field("controller", o.controller);
  v.Field("blockOwnerDeletion", o.block_owner_deletion);
}

struct ObjectMeta {
  std::string name;
  std::string generate_name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  Time creation_timestamp;
  Time deletion_timestamp;
  std::optional<int64_t> deletion_grace_period_seconds;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> finalizers;
  std::vector<OwnerReference> owner_references;
  std::vector<RawJson> managed_fields;
  bool operator==(const ObjectMeta&) const = default;
};

template <class V>
void Reflect(V& v, ObjectMeta& o) {
  v.Field("name", o.name);
  v.Field("generateName", o.generate_name);
  v.Field("namespace", o.namespace_);
  v.Field("uid", o.uid);
  v.Field("resourceVersion", o.resource_version);
  v.Field("generation", o.generation);
  v.Field("creationTimestamp", o.creation_timestamp);
  v.Field("deletionTimestamp", o.deletion_timestamp);
  v.Field("deletionGracePeriodSeconds", o.deletion_grace_period_seconds);
  v.Field("labels", o.labels);
  v.Field("annotations", o.annotations);
  v.Field("finalizers", o.finalizers);
  v.Field("ownerReferences", o.owner_references);
  v.Field("managedFields", o.managed_fields);
}

// Label keys/values, annotation keys and total size (256 KiB), finalizer names.
void CheckRules(const ObjectMeta& m, const std::string& path, FieldErrors& errs);

// Checks metadata.name with the given name rule ("label": DNS-1123 label; "subdomain": subdomain).
// generateName alone is accepted on create (the server fills the name).
void CheckObjectName(const ObjectMeta& m, bool label_rule, const std::string& path, FieldErrors& errs);

}  // namespace tmcd::apis
