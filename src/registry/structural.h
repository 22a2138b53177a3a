#pragma once
// Custom resources against their CustomResourceDefinition's structural OpenAPI v3 schema, as
// kube-apiserver's apiextensions registry treats them (docs/custom-resources.md#validation): unknown
// fields are reported (fieldValidation=Strict) or pruned (Warn, Ignore), defaults fill absent fields, and
// every value is checked against its schema. Also the check that a CRD's schema is one tmcd can enforce
// (structural, and nothing it would accept and ignore). Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apis/meta/field_errors.h"

namespace tmcd::registry {

struct SchemaOptions {
  bool prune = false;                  // drop unknown fields instead of reporting them
  std::vector<std::string>* pruned{};  // the dropped fields' paths, for Warning headers (may be null)
};

// Defaults, prunes (or reports) and validates `obj` in place against `schema` (the openAPIV3Schema of
// the served version). apiVersion, kind and metadata are left to the caller (ObjectMeta rules).
void ApplySchema(const nlohmann::json& schema, nlohmann::json& obj, const SchemaOptions& opts, apis::FieldErrors& errs);

// Whether `schema` is structural and uses only what ApplySchema enforces; errors name the offending
// path under `field` (e.g. "spec.versions[0].schema.openAPIV3Schema").
void CheckStructural(const nlohmann::json& schema, const std::string& field, apis::FieldErrors& errs);

}  // namespace tmcd::registry
