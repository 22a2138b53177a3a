// EmbeddedUpstream: reads from the store with the store's versions; Mutate retries conflicts and
// skips unchanged objects.
#include <doctest/doctest.h>

#include "temp_store.h"
#include "upstream/upstream.h"

namespace tmcd::upstream {
namespace {

using store::testing::OpenAt;
using store::testing::TempDir;

TEST_CASE("embedded upstream: read-modify-write with conflict retries") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  const ObjectRef ref{"root", "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "edge"};
  REQUIRE(s->Create(ref.Key(), R"({"metadata":{"name":"edge"},"spec":{"n":1}})").ok());
  int writes = 0;
  bool interfere = true;
  // The writer stands in for api::ObjectService: an optimistic update on the store.
  EmbeddedUpstream up(*s, [&](const ObjectRef& r, const Json& desired, bool status) -> Result<Json> {
    ++writes;
    CHECK(status);
    if (interfere) {  // someone else writes first: the first attempt conflicts
      interfere = false;
      REQUIRE(s->Update(r.Key(), R"({"metadata":{"name":"edge"},"spec":{"n":2}})", 0).ok());
    }
    const uint64_t expected = std::stoull(desired["metadata"]["resourceVersion"].get<std::string>());
    TMCD_ASSIGN_OR_RETURN(store::StoredObject o, s->Update(r.Key(), desired.dump(), expected));
    return Json::parse(o.json);
  });
  CHECK(up.Kind() == "embedded");
  CHECK(up.NotReadyReason().empty());
  CHECK(up.AcceptsLocalWrites());
  auto got = up.Get(ref);
  REQUIRE(got.ok());
  CHECK(got->at("metadata").at("resourceVersion") == "1");  // the store's revision
  CHECK(got->at("metadata").at("uid").get<std::string>().size() == 36);

  auto out = up.Mutate(ref, true, [](Json& obj) -> Result<bool> {
    obj["status"]["seen"] = obj["spec"]["n"];
    return true;
  });
  REQUIRE_MESSAGE(out.ok(), out.status().ToString());
  CHECK(writes == 2);
  CHECK((*out)["status"]["seen"] == 2);  // re-read after the conflict, so it saw n=2
  auto unchanged = up.Mutate(ref, true, [](Json&) -> Result<bool> { return false; });
  CHECK(unchanged.ok());
  CHECK(writes == 2);
  CHECK(up.List("root", "tmc.kcp.io", "clusterregistrations", "")->size() == 1);
  CHECK(up.List("other", "tmc.kcp.io", "clusterregistrations", "")->empty());
  CHECK(up.Mutate({"root", "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "nope"}, false,
                  [](Json&) -> Result<bool> { return true; })
            .status()
            .reason() == Reason::kNotFound);
}

}  // namespace
}  // namespace tmcd::upstream
