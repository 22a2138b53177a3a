// The syncer's index of what requeues what: the kinds each namespace's placements select, placement changes
// that matter (only a new fingerprint requeues), dependents of an object, and forgetting a workload — per
// workspace and namespace, never across.
#include "sync/index.h"

#include <doctest/doctest.h>

namespace tmcd::sync {
namespace {

TEST_CASE("placements: the kinds they select, and which changes requeue their namespace") {
  WorkloadIndex idx;
  CHECK(idx.SetPlacement("root", "shop", "web", {"deployments.apps", "widgets.example.com"}, "fp1"));
  CHECK(idx.Selected("root", "shop", "deployments.apps"));
  CHECK(idx.Selected("root", "shop", "widgets.example.com"));
  CHECK_FALSE(idx.Selected("root", "shop", "jobs.batch"));
  CHECK_FALSE(idx.Selected("root", "other", "deployments.apps"));   // another namespace
  CHECK_FALSE(idx.Selected("root:b", "shop", "deployments.apps"));  // another workspace
  // A status write with the same selector, decisions and policy: nothing to requeue.
  CHECK_FALSE(idx.SetPlacement("root", "shop", "web", {"deployments.apps", "widgets.example.com"}, "fp1"));
  CHECK(idx.SetPlacement("root", "shop", "web", {"deployments.apps"}, "fp2"));
  CHECK_FALSE(idx.Selected("root", "shop", "widgets.example.com"));
  // Two placements: a kind stays selected while either selects it.
  CHECK(idx.SetPlacement("root", "shop", "jobs", {"jobs.batch", "deployments.apps"}, "fp3"));
  CHECK(idx.SetPlacement("root", "shop", "web", {}, ""));  // deleted
  CHECK(idx.Selected("root", "shop", "deployments.apps"));
  CHECK(idx.SetPlacement("root", "shop", "jobs", {}, ""));
  CHECK_FALSE(idx.Selected("root", "shop", "deployments.apps"));
  // A deletion tmcd did not see the placement for is looked at anyway (its copies may need removal).
  CHECK(idx.SetPlacement("root", "shop", "gone", {}, ""));
}

TEST_CASE("dependencies: dependents per workspace and namespace, replaced and forgotten") {
  WorkloadIndex idx;
  const std::string web = "root|deployments.apps|shop/web";
  const std::string db = "root|statefulsets.apps|shop/db";
  idx.SetDependencies(web, "root", "shop", {"configmaps/conf", "secrets/tls"});
  idx.SetDependencies(db, "root", "shop", {"configmaps/conf"});
  CHECK(idx.Dependents("root", "shop", "configmaps/conf") == std::set<std::string>{db, web});
  CHECK(idx.Dependents("root", "shop", "secrets/tls") == std::set<std::string>{web});
  CHECK(idx.Dependents("root", "other", "configmaps/conf").empty());
  CHECK(idx.Dependents("root:b", "shop", "configmaps/conf").empty());
  idx.SetDependencies(web, "root", "shop", {"configmaps/conf"});  // the Secret is no longer used
  CHECK(idx.Dependents("root", "shop", "secrets/tls").empty());
  idx.Forget(db);
  CHECK(idx.Dependents("root", "shop", "configmaps/conf") == std::set<std::string>{web});
  idx.Forget(web);
  CHECK(idx.Dependents("root", "shop", "configmaps/conf").empty());
}

}  // namespace
}  // namespace tmcd::sync
