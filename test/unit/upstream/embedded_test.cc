// EmbeddedUpstream: reads from the store with the store's versions; Mutate writes through the real
// registry layer, retries conflicts and skips unchanged objects.
#include <doctest/doctest.h>

#include "common/clock.h"
#include "temp_store.h"
#include "upstream/upstream.h"

namespace tmcd::upstream {
namespace {

using store::testing::OpenAt;
using store::testing::TempDir;

TEST_CASE("embedded upstream: read-modify-write through the registry, with conflict retries") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  RealClock clock;
  registry::ObjectService objects(*s, clock);
  const ObjectRef ref{"root", "apps", "v1", "deployments", "default", "web"};
  REQUIRE(s->Create(ref.Key(), R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web",)"
                               R"("namespace":"default","generation":1},"spec":{"replicas":1}})")
              .ok());
  EmbeddedUpstream up(*s, objects);
  CHECK(up.Kind() == "embedded");
  CHECK(up.NotReadyReason().empty());
  CHECK(up.AcceptsLocalWrites());
  auto got = up.Get(ref);
  REQUIRE(got.ok());
  CHECK(got->at("metadata").at("resourceVersion") == "1");  // the store's revision
  CHECK(got->at("metadata").at("uid").get<std::string>().size() == 36);

  int calls = 0;
  auto out = up.Mutate(ref, true, [&](Json& obj) -> Result<bool> {
    if (++calls == 1) {  // someone else writes first: the first attempt conflicts
      auto cur = s->Get(ref.Key());
      REQUIRE(cur.ok());
      Json changed = Json::parse(cur->json);
      changed["spec"]["replicas"] = 2;
      REQUIRE(s->Update(ref.Key(), changed.dump(), cur->mod_revision).ok());
    }
    obj["status"]["observedReplicas"] = obj["spec"]["replicas"];
    obj["spec"]["replicas"] = 9;  // a status write cannot change the spec
    return true;
  });
  REQUIRE_MESSAGE(out.ok(), out.status().ToString());
  CHECK(calls == 2);
  CHECK((*out)["status"]["observedReplicas"] == 2);  // re-read after the conflict, so it saw 2
  CHECK((*out)["spec"]["replicas"] == 2);
  CHECK((*out)["metadata"]["managedFields"][0]["manager"] == "tmcd");
  auto unchanged = up.Mutate(ref, true, [](Json&) -> Result<bool> { return false; });
  CHECK(unchanged.ok());
  CHECK((*unchanged)["metadata"]["resourceVersion"] == (*out)["metadata"]["resourceVersion"]);

  // A main-resource write gets the registry's rules: a spec change bumps metadata.generation.
  auto spec = up.Mutate(ref, false, [](Json& obj) -> Result<bool> {
    obj["spec"]["replicas"] = 3;
    return true;
  });
  REQUIRE_MESSAGE(spec.ok(), spec.status().ToString());
  CHECK((*spec)["metadata"]["generation"] == 2);
  CHECK((*spec)["status"]["observedReplicas"] == 2);  // kept by a main-resource write

  CHECK(up.List("root", "apps", "deployments", "")->size() == 1);
  CHECK(up.List("other", "apps", "deployments", "")->empty());
  CHECK(up.Mutate({"root", "apps", "v1", "deployments", "default", "nope"}, false,
                  [](Json&) -> Result<bool> { return true; })
            .status()
            .reason() == Reason::kNotFound);
  CHECK(up.Mutate({"root", "example.com", "v1", "widgets", "default", "web"}, false,
                  [](Json&) -> Result<bool> { return true; })
            .status()
            .reason() == Reason::kNotFound);
}

}  // namespace
}  // namespace tmcd::upstream
