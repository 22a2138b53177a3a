// KcpCache over a real RocksDB store: idempotent replay, stale and re-created objects, purges and
// resume points.
#include "upstream/kcp_cache.h"

#include <doctest/doctest.h>

#include "temp_store.h"

namespace tmcd::upstream {
namespace {

using store::testing::OpenAt;
using store::testing::TempDir;

const Gvr kDeploy{"apps", "v1", "deployments"};

Json Obj(const std::string& cluster, const std::string& name, const std::string& rv, const std::string& uid,
         int replicas = 1) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata",
           {{"name", name},
            {"namespace", "apps"},
            {"resourceVersion", rv},
            {"uid", uid},
            {"annotations", {{"kcp.io/cluster", cluster}}},
            {"managedFields", Json::array({{{"manager", "kubectl"}}})}}},
          {"spec", {{"replicas", replicas}}}};
}

constexpr const char* kUid1 = "11111111-2222-3333-4444-555555555555";
constexpr const char* kUid2 = "99999999-2222-3333-4444-555555555555";

TEST_CASE("objects are cached under their logical cluster with kcp's uid, without managedFields") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  KcpCache cache(*s);
  REQUIRE(cache.Put(kDeploy, Obj("lc-a", "web", "10", kUid1)).ok());
  REQUIRE(cache.Put(kDeploy, Obj("lc-b", "web", "11", kUid2, 5)).ok());
  auto a = s->Get({"lc-a", "apps", "deployments", "apps", "web"});
  REQUIRE(a.ok());
  CHECK(store::UidString(a->uid) == kUid1);
  const Json cached = Json::parse(a->json);
  CHECK_FALSE(cached["metadata"].contains("managedFields"));
  CHECK(cached["metadata"]["resourceVersion"] == "10");
  CHECK(Json::parse(s->Get({"lc-b", "apps", "deployments", "apps", "web"})->json)["spec"]["replicas"] == 5);
  CHECK(cache.Put(kDeploy, Json{{"metadata", {{"name", "x"}}}}).reason() == Reason::kBadRequest);  // no cluster
}

TEST_CASE("replayed and stale events change nothing; newer ones update") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  KcpCache cache(*s);
  REQUIRE(cache.Put(kDeploy, Obj("lc", "web", "20", kUid1, 2)).ok());
  const uint64_t rev = s->CurrentRevision();
  REQUIRE(cache.Put(kDeploy, Obj("lc", "web", "20", kUid1, 2)).ok());  // replay
  REQUIRE(cache.Put(kDeploy, Obj("lc", "web", "15", kUid1, 1)).ok());  // older than cached
  CHECK(s->CurrentRevision() == rev);
  REQUIRE(cache.Put(kDeploy, Obj("lc", "web", "25", kUid1, 3)).ok());
  CHECK(s->CurrentRevision() == rev + 1);
  CHECK(Json::parse(s->Get({"lc", "apps", "deployments", "apps", "web"})->json)["spec"]["replicas"] == 3);
}

TEST_CASE("a delete older than a re-creation is ignored; a new uid replaces the object") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  KcpCache cache(*s);
  const store::ObjectKey key{"lc", "apps", "deployments", "apps", "web"};
  REQUIRE(cache.Put(kDeploy, Obj("lc", "web", "30", kUid1)).ok());
  // Deleted and re-created while tmcd did not watch: the new uid wins.
  REQUIRE(cache.Put(kDeploy, Obj("lc", "web", "40", kUid2)).ok());
  CHECK(store::UidString(s->Get(key)->uid) == kUid2);
  REQUIRE(cache.Remove(kDeploy, Obj("lc", "web", "35", kUid1)).ok());  // the old object's delete
  CHECK(s->Get(key).ok());
  REQUIRE(cache.Remove(kDeploy, Obj("lc", "web", "41", kUid2)).ok());
  CHECK(s->Get(key).status().reason() == Reason::kNotFound);
  CHECK(cache.Remove(kDeploy, Obj("lc", "web", "42", kUid2)).ok());  // already gone: fine
}

TEST_CASE("PutMany: a list cached in shared commits, with the one-object rules for each object") {
  TempDir dir;
  store::StoreOptions o;
  o.path = dir.path();
  o.sync_writes = true;  // counted below: a WAL sync per batch, not per object
  auto opened = store::Store::Open(o, store::testing::TestClock());
  REQUIRE(opened.ok());
  auto& s = *opened;
  KcpCache cache(*s);
  REQUIRE(cache.Put(kDeploy, Obj("lc", "fresh", "50", kUid1, 7)).ok());  // newer than the list's copy
  REQUIRE(cache.Put(kDeploy, Obj("lc", "renamed", "10", kUid1)).ok());   // re-created under a new uid
  REQUIRE(cache.Put(kDeploy, Obj("lc", "stale", "10", kUid1, 1)).ok());  // the list has a newer copy
  const uint64_t commits = s->CurrentRevision();
  std::vector<Json> list;
  list.reserve(604);
  for (int i = 0; i < 600; ++i) list.push_back(Obj("lc", "d-" + std::to_string(i), "40", kUid1));
  list.push_back(Obj("lc", "fresh", "45", kUid1, 1));
  list.push_back(Obj("lc", "renamed", "46", kUid2));
  list.push_back(Obj("lc", "stale", "47", kUid1, 4));
  list.push_back(Json{{"metadata", {{"name", "x"}}}});  // no cluster: reported, the rest cached
  std::vector<const Json*> ptrs;
  ptrs.reserve(list.size());
  for (const auto& obj : list) ptrs.push_back(&obj);
  const uint64_t syncs_before = s->Stats().wal_syncs;
  CHECK(cache.PutMany(kDeploy, ptrs).reason() == Reason::kBadRequest);
  // 600 creates + 1 update + a delete and a create for the new uid; "fresh" untouched.
  CHECK(s->CurrentRevision() - commits == 603);
  auto d = s->Get({"lc", "apps", "deployments", "apps", "d-599"});
  REQUIRE(d.ok());
  CHECK(store::UidString(d->uid) == kUid1);
  CHECK_FALSE(Json::parse(d->json)["metadata"].contains("managedFields"));
  CHECK(Json::parse(s->Get({"lc", "apps", "deployments", "apps", "fresh"})->json)["spec"]["replicas"] == 7);
  CHECK(Json::parse(s->Get({"lc", "apps", "deployments", "apps", "stale"})->json)["spec"]["replicas"] == 4);
  CHECK(store::UidString(s->Get({"lc", "apps", "deployments", "apps", "renamed"})->uid) == kUid2);
  CHECK(s->Stats().wal_syncs - syncs_before <= 6);  // 3 batches of at most 256, and the uid's own two
  // Replaying the same list changes nothing.
  CHECK(cache.PutMany(kDeploy, {ptrs.begin(), ptrs.end() - 1}).ok());
  CHECK(s->CurrentRevision() - commits == 603);
}

TEST_CASE("purge drops one cluster only; RemoveMissing keeps the named objects") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  KcpCache cache(*s);
  const Gvr cms{"", "v1", "configmaps"};
  for (const char* n : {"a", "b", "c"}) REQUIRE(cache.Put(kDeploy, Obj("lc-1", n, "5", kUid1)).ok());
  REQUIRE(cache.Put(cms, Obj("lc-1", "conf", "6", kUid1)).ok());
  REQUIRE(cache.Put(kDeploy, Obj("lc-2", "a", "7", kUid2)).ok());
  auto removed = cache.RemoveMissing("lc-1", kDeploy, {"apps/b"});
  REQUIRE(removed.ok());
  CHECK(*removed == 2);
  CHECK(cache.Cached(kDeploy, {"lc-1"})->size() == 1);
  auto purged = cache.Purge("lc-1", {kDeploy, cms});
  REQUIRE(purged.ok());
  CHECK(*purged == 2);
  CHECK(cache.Cached(kDeploy, {"lc-1", "lc-2"})->size() == 1);
  CHECK((*cache.Cached(kDeploy, {"lc-2"}))[0]["metadata"]["annotations"]["kcp.io/cluster"] == "lc-2");
}

TEST_CASE("resume points are kept per endpoint and resource, outside every workspace") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  KcpCache cache(*s);
  CHECK(cache.LoadResume("https://a", kDeploy).status().reason() == Reason::kNotFound);
  REQUIRE(cache.SaveResume("https://a", kDeploy, {"123", {}}).ok());
  REQUIRE(cache.SaveResume("https://a", {"apis.kcp.io", "v1alpha1", "apibindings"}, {"", {"lc-1", "lc-2"}}).ok());
  const uint64_t rev = s->CurrentRevision();
  REQUIRE(cache.SaveResume("https://a", kDeploy, {"123", {}}).ok());  // unchanged: no write
  CHECK(s->CurrentRevision() == rev);
  CHECK(cache.LoadResume("https://a", kDeploy)->resource_version == "123");
  CHECK(cache.LoadResume("https://b", kDeploy).status().reason() == Reason::kNotFound);
  CHECK(cache.LoadResume("https://a", {"apis.kcp.io", "v1alpha1", "apibindings"})->clusters ==
        std::set<std::string>{"lc-1", "lc-2"});
  CHECK(s->List(store::ResourcePrefix("root", "", ""), 0, "")->items.empty());
}

}  // namespace
}  // namespace tmcd::upstream
