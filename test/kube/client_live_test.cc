// The client against a real kube-apiserver: TLS (right and wrong CA), tokens, CRUD, conflicts,
// server-side apply, paging and watches.
#include "common/strings.h"
#include "kube/discovery.h"
#include "kube/errors.h"
#include "live_helpers.h"

namespace tmcd::kube::live {
namespace {

TEST_CASE("TLS is verified against the CA; a wrong CA or token is a clear error") {
  auto ok = NewClient();
  auto ns = ok->Get(kNamespaces, "default");
  REQUIRE_MESSAGE(ns.ok(), ns.status().ToString());
  CHECK((*ns)["metadata"]["name"] == "default");

  RestConfig wrong_ca = VerifiedConfig();
  wrong_ca.ca_pem = ReadText(PeerDir() + "/wrong-ca.pem");
  auto bad = NewClient(wrong_ca)->Get(kNamespaces, "default");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().reason() == Reason::kBadRequest);
  CHECK(bad.status().message().find("TLS: the server certificate is not trusted") == 0);

  RestConfig system_store = VerifiedConfig();
  system_store.ca_pem.clear();  // a self-signed server is not in the system trust store
  CHECK_FALSE(NewClient(system_store)->Get(kNamespaces, "default").ok());

  RestConfig wrong_token = VerifiedConfig();
  wrong_token.token = "not-the-token";
  auto denied = NewClient(wrong_token)->Get(kNamespaces, "default");
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.status().reason() == Reason::kUnauthorized);
  CHECK(denied.status().message().find("not-the-token") == std::string::npos);  // never echo credentials
}

TEST_CASE("CRUD with optimistic concurrency, patches and delete preconditions") {
  auto c = NewClient();
  const std::string ns = NewNamespace(*c, "crud");
  const ResourceRef cms = ConfigMaps(ns);
  auto created = c->Create(cms, ConfigMap("a", "1"));
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  CHECK(c->Create(cms, ConfigMap("a", "1")).status().reason() == Reason::kAlreadyExists);

  Json stale = *created;
  Json next = *created;
  next["data"]["k"] = "2";
  auto updated = c->Update(cms, next);
  REQUIRE(updated.ok());
  CHECK((*updated)["data"]["k"] == "2");
  stale["data"]["k"] = "lost";
  auto conflict = c->Update(cms, stale);
  CHECK(conflict.status().reason() == Reason::kConflict);
  CHECK(conflict.status().message().find("the object has been modified") != std::string::npos);

  auto merged = c->Patch(cms, "a", PatchType::kMerge, {{"data", {{"m", "x"}}}});
  REQUIRE(merged.ok());
  CHECK((*merged)["data"] == Json{{"k", "2"}, {"m", "x"}});
  auto patched = c->Patch(cms, "a", PatchType::kJson, Json::array({{{"op", "remove"}, {"path", "/data/m"}}}));
  REQUIRE(patched.ok());
  CHECK_FALSE((*patched)["data"].contains("m"));
  CHECK(c->Patch(cms, "a", PatchType::kJson, Json::array({{{"op", "test"}, {"path", "/data/k"}, {"value", "9"}}}))
            .status()
            .reason() == Reason::kInvalid);

  DeleteOptions wrong;
  wrong.precondition_resource_version = (*created)["metadata"]["resourceVersion"];
  CHECK(c->Delete(cms, "a", wrong).reason() == Reason::kConflict);
  DeleteOptions right;
  right.precondition_uid = (*created)["metadata"]["uid"];
  right.propagation_policy = "Background";
  CHECK(c->Delete(cms, "a", right).ok());
  CHECK(c->Get(cms, "a").status().reason() == Reason::kNotFound);
  CHECK(c->Delete(cms, "a").reason() == Reason::kNotFound);
}

TEST_CASE("DeleteCompleted tells a finished deletion from one waiting on a finalizer") {
  auto c = NewClient();
  const std::string ns = NewNamespace(*c, "delete");
  const ResourceRef cms = ConfigMaps(ns);
  REQUIRE(c->Create(cms, ConfigMap("now", "v")).ok());
  auto now = c->DeleteCompleted(cms, "now");
  REQUIRE(now.ok());
  CHECK(*now);  // a Status of Success: gone
  CHECK(c->Get(cms, "now").status().reason() == Reason::kNotFound);

  Json held = ConfigMap("held", "v");
  held["metadata"]["finalizers"] = Json::array({"example.com/hold"});
  REQUIRE(c->Create(cms, held).ok());
  auto waiting = c->DeleteCompleted(cms, "held");
  REQUIRE(waiting.ok());
  CHECK_FALSE(*waiting);  // the object came back, marked for deletion
  auto still = c->Get(cms, "held");
  REQUIRE(still.ok());
  CHECK((*still)["metadata"].contains("deletionTimestamp"));
  REQUIRE(c->Patch(cms, "held", PatchType::kMerge, {{"metadata", {{"finalizers", nullptr}}}}).ok());
  CHECK(c->Get(cms, "held").status().reason() == Reason::kNotFound);
  CHECK(c->DeleteCompleted(cms, "held").status().reason() == Reason::kNotFound);
}

TEST_CASE("server-side apply: create, update, and a field-manager conflict") {
  auto c = NewClient();
  const std::string ns = NewNamespace(*c, "ssa");
  const ResourceRef cms = ConfigMaps(ns);
  auto first = c->Apply(cms, "s", ConfigMap("s", "from-a"), "manager-a", false);
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  CHECK((*first)["data"]["k"] == "from-a");
  auto again = c->Apply(cms, "s", ConfigMap("s", "from-a-2"), "manager-a", false);
  REQUIRE(again.ok());
  CHECK((*again)["data"]["k"] == "from-a-2");
  auto clash = c->Apply(cms, "s", ConfigMap("s", "from-b"), "manager-b", false);
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.status().reason() == Reason::kConflict);
  REQUIRE_FALSE(clash.status().causes().empty());
  CHECK(clash.status().causes()[0].reason == "FieldManagerConflict");
  CHECK(clash.status().causes()[0].field == ".data.k");
  auto forced = c->Apply(cms, "s", ConfigMap("s", "from-b"), "manager-b", true);
  REQUIRE(forced.ok());
  CHECK((*forced)["data"]["k"] == "from-b");
  CHECK(c->Apply(cms, "s", ConfigMap("s", "x"), "", false).status().reason() == Reason::kBadRequest);
}

TEST_CASE("list paging with limit=2 and the full list") {
  auto c = NewClient();
  const std::string ns = NewNamespace(*c, "page");
  const ResourceRef cms = ConfigMaps(ns);
  for (int i = 0; i < 5; ++i) REQUIRE(c->Create(cms, ConfigMap("p" + std::to_string(i), "v")).ok());
  ListOptions o;
  o.limit = 2;
  o.label_selector = "";
  auto page = c->List(cms, o);
  REQUIRE(page.ok());
  CHECK(page->items.size() == 2);
  CHECK_FALSE(page->continue_token.empty());
  auto all = c->ListAll(cms, o);
  REQUIRE(all.ok());
  // kube-controller-manager adds kube-root-ca.crt to every namespace on its own schedule, so it may or may not be
  // there yet: count only ours, and check that nothing else is.
  size_t ours = 0;
  for (const auto& item : all->items) {
    const std::string name = item["metadata"]["name"].get<std::string>();
    if (name.rfind('p', 0) == 0) {
      ++ours;
    } else {
      CHECK(name == "kube-root-ca.crt");
    }
  }
  CHECK(ours == 5);
  CHECK_FALSE(all->resource_version.empty());
}

TEST_CASE("watch: ordered events from a resourceVersion; an ancient one is 410 Expired") {
  auto c = NewClient();
  const std::string ns = NewNamespace(*c, "watch");
  const ResourceRef cms = ConfigMaps(ns);
  auto list = c->List(cms, {});
  REQUIRE(list.ok());
  REQUIRE(c->Create(cms, ConfigMap("w", "1")).ok());
  REQUIRE(c->Patch(cms, "w", PatchType::kMerge, {{"data", {{"k", "2"}}}}).ok());
  REQUIRE(c->Delete(cms, "w").ok());
  std::vector<std::string> seen;
  WatchOptions wo;
  wo.resource_version = list->resource_version;
  wo.timeout = std::chrono::seconds(5);
  Status s = c->Watch(cms, wo, [&](WatchEvent& ev) {
    if (ev.name == "w") seen.push_back(std::string(WatchEventTypeName(ev.type)));
    return seen.size() < 3;
  });
  CHECK(s.ok());
  CHECK(seen == std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"});

  // Streaming list: the current state as ADDED events, closed by the initial-events-end bookmark.
  REQUIRE(c->Create(cms, ConfigMap("s1", "x")).ok());
  WatchOptions stream;
  stream.send_initial_events = true;
  stream.timeout = std::chrono::seconds(30);
  std::vector<std::string> initial;
  bool ended = false;
  Status ss = c->Watch(cms, stream, [&](WatchEvent& ev) {
    if (ev.type == WatchEventType::kAdded) initial.push_back(ev.name);
    ended = ev.initial_events_end;
    return !ended;
  });
  CHECK_MESSAGE(ss.ok(), ss.ToString());
  CHECK(ended);
  CHECK(std::find(initial.begin(), initial.end(), "s1") != initial.end());

  // A compacted revision is a 410. PodTemplates bypass the apiserver's watch cache in the test peers
  // (up.sh), so their watches reach etcd; etcd is compacted through its JSON gateway, as the
  // apiserver's periodic compaction would do.
  const ResourceRef templates{"", "v1", "podtemplates", ns, ""};
  auto before = c->List(templates, {});
  REQUIRE(before.ok());
  Json pt = {{"apiVersion", "v1"},
             {"kind", "PodTemplate"},
             {"metadata", {{"name", "t"}}},
             {"template", {{"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "busybox"}}})}}}}}};
  REQUIRE(c->Create(templates, pt).ok());
  // A second write, so that the compaction point lies beyond the revision right after `before`.
  auto made = c->Patch(templates, "t", PatchType::kMerge, {{"metadata", {{"labels", {{"v", "2"}}}}}});
  REQUIRE_MESSAGE(made.ok(), made.status().ToString());
  RestConfig etcd_config;
  etcd_config.server = std::string(Trim(ReadText(PeerDir() + "/etcd-url")));
  auto etcd = Client::Create(etcd_config);
  REQUIRE(etcd.ok());
  auto compacted = (*etcd)->Do("POST", "/v3/kv/compaction",
                               Json{{"revision", (*made)["metadata"]["resourceVersion"]}, {"physical", true}}.dump(),
                               "application/json");
  REQUIRE_MESSAGE(compacted.ok(), compacted.status().ToString());
  wo.resource_version = before->resource_version;
  Status expired = c->Watch(templates, wo, [](WatchEvent&) { return true; });
  CHECK_MESSAGE(IsExpired(expired), expired.ToString());
}

}  // namespace
}  // namespace tmcd::kube::live

namespace tmcd::kube::live {
namespace {

TEST_CASE("discovery resolves kinds to resources in the preferred version") {
  auto c = NewClient();
  auto deploy = ResolveKind(*c, "apps", "Deployment");
  REQUIRE_MESSAGE(deploy.ok(), deploy.status().ToString());
  CHECK(deploy->resource == "deployments");
  CHECK(deploy->version == "v1");
  CHECK(deploy->namespaced);
  CHECK(std::find(deploy->verbs.begin(), deploy->verbs.end(), "watch") != deploy->verbs.end());
  auto ns = ResolveKind(*c, "", "Namespace");
  REQUIRE(ns.ok());
  CHECK_FALSE(ns->namespaced);
  CHECK(ResolveKind(*c, "apps", "Nope").status().reason() == Reason::kNotFound);
  CHECK(ResolveKind(*c, "no.such.group", "X").status().reason() == Reason::kNotFound);
}

}  // namespace
}  // namespace tmcd::kube::live
