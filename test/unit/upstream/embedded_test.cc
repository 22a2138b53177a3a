// EmbeddedUpstream: reads from the store with the store's versions; Mutate writes through the real
// registry layer, retries conflicts and skips unchanged objects; MutateWithStatus writes the object
// and its status in one commit. The base class's MutateWithStatus (kcp mode's) splits the change
// into an object write and a status write, each sent only when its part changed.
#include <doctest/doctest.h>

#include "common/clock.h"
#include "temp_store.h"
#include "upstream/upstream.h"

namespace tmcd::upstream {
namespace {

using store::testing::OpenAt;
using store::testing::TempDir;

// A store holding one Deployment, and the embedded upstream over it.
struct Fixture {
  TempDir dir;
  std::unique_ptr<store::Store> s = OpenAt(dir.path());
  RealClock clock;
  registry::ObjectService objects{*s, clock};
  const ObjectRef ref{"root", "apps", "v1", "deployments", "default", "web"};
  EmbeddedUpstream up{*s, objects};
  Fixture() {
    REQUIRE(s->Create(ref.Key(), R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web",)"
                                 R"("namespace":"default","generation":1},"spec":{"replicas":1}})")
                .ok());
  }
};

TEST_CASE("embedded upstream: read-modify-write through the registry, with conflict retries") {
  Fixture f;
  auto& s = f.s;
  const ObjectRef& ref = f.ref;
  EmbeddedUpstream& up = f.up;
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

// The base class's MutateWithStatus over the embedded store's real writes: the writes it makes are
// counted (by part), as kcp would receive them.
class SplitUpstream : public Upstream {
 public:
  SplitUpstream(store::Store& s, EmbeddedUpstream& real) : Upstream(s), real_(real) {}
  std::string_view Kind() const override { return "split"; }
  Status Start() override { return Status::Ok(); }
  void Stop() override {}
  std::string NotReadyReason() const override { return ""; }
  bool AcceptsLocalWrites() const override { return true; }
  Result<Json> Mutate(const ObjectRef& ref, bool status, const MutateFn& mutate) override {
    return real_.Mutate(ref, status, [&](Json& obj) -> Result<bool> {
      TMCD_ASSIGN_OR_RETURN(bool changed, mutate(obj));
      if (changed) writes.push_back(status);
      return changed;
    });
  }
  Result<Json> Create(const ObjectRef& ref, const Json& obj) override { return real_.Create(ref, obj); }
  Result<Json> MergePatch(const ObjectRef& ref, const Json& patch) override { return real_.MergePatch(ref, patch); }
  std::vector<bool> writes;  // false: the object, true: its status

 private:
  bool SourceVersions() const override { return false; }
  EmbeddedUpstream& real_;
};

TEST_CASE("MutateWithStatus: one commit embedded; elsewhere the object, then its status, each when changed") {
  Fixture f;
  auto& s = f.s;
  const ObjectRef& ref = f.ref;
  EmbeddedUpstream& up = f.up;
  auto change = [](const std::string& label, int ready) {
    return [label, ready](Json& obj) -> Result<bool> {
      const Json before = obj;
      if (!label.empty()) obj["metadata"]["labels"]["state"] = label;
      if (ready >= 0) obj["status"]["readyReplicas"] = ready;
      return obj != before;
    };
  };

  const uint64_t before = s->CurrentRevision();
  auto both = up.MutateWithStatus(ref, change("Sync", 1));
  REQUIRE_MESSAGE(both.ok(), both.status().ToString());
  CHECK(s->CurrentRevision() == before + 1);  // one commit for both parts
  CHECK((*both)["metadata"]["labels"]["state"] == "Sync");
  CHECK((*both)["status"]["readyReplicas"] == 1);
  CHECK((*both)["metadata"]["generation"] == 1);  // metadata and status are not the spec
  // managedFields as two writes would leave them: the label under the object, the status under /status.
  std::map<std::string, Json> managed;
  for (const auto& e : (*both)["metadata"]["managedFields"]) managed[e.value("subresource", "")] = e["fieldsV1"];
  REQUIRE(managed.size() == 2);
  CHECK(managed[""]["f:metadata"]["f:labels"].contains("f:state"));
  CHECK_FALSE(managed[""].contains("f:status"));
  CHECK(managed["status"]["f:status"].contains("f:readyReplicas"));
  CHECK_FALSE(managed["status"].contains("f:metadata"));
  auto same = up.MutateWithStatus(ref, change("Sync", 1));
  REQUIRE(same.ok());
  CHECK(s->CurrentRevision() == before + 1);  // nothing changed: nothing written

  SplitUpstream split(*s, up);
  REQUIRE(split.MutateWithStatus(ref, change("Gone", 2)).ok());
  CHECK(split.writes == std::vector<bool>{false, true});
  split.writes.clear();
  REQUIRE(split.MutateWithStatus(ref, change("", 3)).ok());
  CHECK(split.writes == std::vector<bool>{true});  // only the status changed
  split.writes.clear();
  REQUIRE(split.MutateWithStatus(ref, change("Sync", -1)).ok());
  CHECK(split.writes == std::vector<bool>{false});  // only the object changed
  split.writes.clear();
  auto last = split.MutateWithStatus(ref, change("Sync", 3));
  REQUIRE(last.ok());
  CHECK(split.writes.empty());
  CHECK((*last)["metadata"]["labels"]["state"] == "Sync");
  CHECK((*last)["status"]["readyReplicas"] == 3);
}

}  // namespace
}  // namespace tmcd::upstream
