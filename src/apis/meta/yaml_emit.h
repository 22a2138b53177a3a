#pragma once
// JSON → YAML (block style) for generated manifests. Strings that YAML 1.1 readers (go-yaml, as in
// kubectl) would take for booleans, nulls or numbers are double-quoted. Pure; thread-safe.

#include <string>

#include "apis/meta/reflect.h"

namespace tmcd::apis {

std::string ToYaml(const OrderedJson& doc);

}  // namespace tmcd::apis
