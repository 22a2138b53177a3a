// SyncRecords in a real RocksDB store: create, unchanged puts write nothing, per-workload lookup,
// whether a namespace still has a copy on a cluster.
#include "sync/records.h"

#include <doctest/doctest.h>

#include "temp_store.h"

namespace tmcd::sync {
namespace {

v1::SyncRecord Record(const std::string& workload, const std::string& cluster) {
  v1::SyncRecord r;
  r.metadata.name = "deployments.apps." + workload + "." + cluster;
  r.metadata.namespace_ = "shop";
  r.spec.upstream = {"root", "apps", "v1", "deployments", "shop", workload, "uid"};
  r.spec.cluster_name = cluster;
  r.status.phase = "Pending";
  return r;
}

TEST_CASE("records are kept per workload and unchanged puts write nothing") {
  store::testing::TempDir dir;
  auto s = store::testing::OpenAt(dir.path());
  REQUIRE(s);
  RecordStore records(*s, store::testing::TestClock());
  REQUIRE(records.Put(Record("web", "east")).ok());
  REQUIRE(records.Put(Record("web", "west")).ok());
  REQUIRE(records.Put(Record("db", "east")).ok());
  auto web = records.ForWorkload("root", "shop", "apps", "deployments", "web");
  REQUIRE(web.ok());
  CHECK(web->size() == 2);
  CHECK(web->front().metadata.creation_timestamp.set);
  const uint64_t rev = s->CurrentRevision();
  REQUIRE(records.Put(web->front()).ok());
  CHECK(s->CurrentRevision() == rev);  // nothing changed: no write
  auto changed = web->front();
  changed.status.phase = "Applied";
  REQUIRE(records.Put(changed).ok());
  CHECK(s->CurrentRevision() == rev + 1);
  REQUIRE(records.Delete(changed).ok());
  REQUIRE(records.Delete(changed).ok());  // already gone: fine
  CHECK(records.ForWorkload("root", "shop", "apps", "deployments", "web")->size() == 1);
  CHECK(records.InNamespace("root", "shop")->size() == 2);
  CHECK(records.InNamespace("other", "shop")->empty());  // another workspace sees nothing
}

TEST_CASE("a namespace has copies on a cluster while a record there names it") {
  store::testing::TempDir dir;
  auto s = store::testing::OpenAt(dir.path());
  REQUIRE(s);
  RecordStore records(*s, store::testing::TestClock());
  auto mentions = Record("east", "west");  // a workload named like the other cluster: its text says "east"
  REQUIRE(records.Put(mentions).ok());
  CHECK_FALSE(*records.AnyOnCluster("root", "shop", "east"));
  CHECK(*records.AnyOnCluster("root", "shop", "west"));
  REQUIRE(records.Put(Record("web", "east")).ok());
  CHECK(*records.AnyOnCluster("root", "shop", "east"));
  CHECK_FALSE(*records.AnyOnCluster("root", "other", "east"));  // another namespace
  CHECK_FALSE(*records.AnyOnCluster("team", "shop", "east"));   // another workspace
  auto elsewhere = Record("db", "east");
  elsewhere.metadata.namespace_ = "other";
  REQUIRE(records.Put(elsewhere).ok());
  std::vector<std::string> seen;  // the whole workspace, namespace by namespace
  REQUIRE(records
              .ForEachOnCluster("root", "", "east",
                                [&](const v1::SyncRecord& r) {
                                  seen.push_back(r.metadata.namespace_ + "/" + r.spec.upstream.name);
                                  return true;
                                })
              .ok());
  CHECK(seen == std::vector<std::string>{"other/db", "shop/web"});
  REQUIRE(records.Delete(Record("web", "east")).ok());
  CHECK_FALSE(*records.AnyOnCluster("root", "shop", "east"));
  CHECK(*records.AnyOnCluster("root", "other", "east"));
}

}  // namespace
}  // namespace tmcd::sync
