#pragma once
// docs/api-reference.md, generated from the OpenAPI schemas (and so from the Reflect() declarations):
// every field with its type, default, validation and description.

#include <string>

namespace tmcd::apis::v1alpha1 {

std::string ApiReferenceMarkdown();

}  // namespace tmcd::apis::v1alpha1
