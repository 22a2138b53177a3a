#pragma once
// Tests that need objects in a temp store create them as a client would: through the registry's
// object rules (defaults, generation, validation), not by writing the store directly.

#include <doctest/doctest.h>

#include <string>

#include "registry/objects.h"

namespace tmcd::registry::testing {

inline nlohmann::json CreateObject(ObjectService& objects, const std::string& ws, const std::string& group,
                                   const std::string& version, const std::string& resource, const std::string& ns,
                                   const nlohmann::json& body) {
  Request req;
  req.workspace = ws;
  req.namespace_ = ns;
  auto r = objects.catalog().Find(ws, group, version, resource);
  REQUIRE_MESSAGE(r != nullptr, "not served: " << resource);
  auto made = objects.Create(req, *r, body);
  REQUIRE_MESSAGE(made.ok(), made.status().ToString());
  return *made;
}

}  // namespace tmcd::registry::testing
