// The informer against a real kube-apiserver that restarts under it: every change is seen exactly
// once in order per object, and the cache ends equal to the server's list.
#include <map>
#include <mutex>
#include <thread>

#include "kube/errors.h"
#include "kube/informer.h"
#include "live_helpers.h"

namespace tmcd::kube::live {
namespace {

using namespace std::chrono_literals;

// Records, per object, the handler calls and the data values they carried.
struct Recorder {
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> calls;
  void Note(const std::string& what, const Json& obj) {
    std::lock_guard<std::mutex> lock(mu);
    calls[obj["metadata"]["name"].get<std::string>()].push_back(what + ":" + obj["data"].value("k", ""));
  }
  std::vector<std::string> Of(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu);
    return calls[name];
  }
};

bool Eventually(const std::function<bool()>& f, std::chrono::seconds limit = 60s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return f();
}

TEST_CASE("the informer survives an apiserver restart without losing or repeating events") {
  auto c = NewClient();
  const std::string ns = NewNamespace(*c, "informer");
  const ResourceRef cms = ConfigMaps(ns);
  REQUIRE(c->Create(cms, ConfigMap("before", "0")).ok());

  Informer::Options o;
  o.label_selector = "";
  o.field_selector = "metadata.name!=kube-root-ca.crt";
  o.backoff.initial = 100ms;
  o.backoff.cap = 1000ms;
  std::mutex causes_mu;
  std::vector<Status> causes;  // what each relist reported
  o.on_relist = [&](const Status& cause) {
    std::lock_guard<std::mutex> lock(causes_mu);
    causes.push_back(cause);
  };
  Informer inf(*c, cms, o);
  inf.AddIndex("value", [](const Json& obj) { return std::vector<std::string>{obj["data"].value("k", "")}; });
  Recorder rec;
  inf.AddHandlers({[&](const Json& obj) { rec.Note("add", obj); },
                   [&](const Json&, const Json& obj) { rec.Note("update", obj); },
                   [&](const Json& obj) { rec.Note("delete", obj); }});
  inf.Start();
  REQUIRE(inf.WaitForSync(30s));
  // The first list asks for resourceVersion "0", as client-go's does: the apiserver may answer from a
  // watch cache that has not seen "before" yet, and the watch then delivers it.
  CHECK(Eventually([&] { return inf.Get(ns + "/before").has_value(); }));

  REQUIRE(c->Create(cms, ConfigMap("a", "1")).ok());
  REQUIRE(c->Patch(cms, "a", PatchType::kMerge, {{"data", {{"k", "2"}}}}).ok());
  REQUIRE(c->Delete(cms, "before").ok());
  CHECK(Eventually([&] { return rec.Of("a").size() == 2 && rec.Of("before").size() == 2; }));
  CHECK(inf.ByIndex("namespace", ns).size() == 1);
  REQUIRE(inf.ByIndex("value", "2").size() == 1);
  CHECK(inf.ByIndex("value", "2")[0]["metadata"]["name"] == "a");
  CHECK(inf.ByIndex("value", "1").empty());  // the old value's entry went with the update
  CHECK(inf.ByIndex("value", "0").empty());  // and the deleted object's

  REQUIRE(std::system(("test/peers/restart-apiserver.sh " + PeerDir() + " 1").c_str()) == 0);  // NOLINT
  // Changes made after the restart: the informer finds them by re-watching or, when its
  // resourceVersion is older than the new watch cache, by a relist.
  auto c2 = NewClient();
  REQUIRE(c2->Patch(cms, "a", PatchType::kMerge, {{"data", {{"k", "3"}}}}).ok());
  REQUIRE(c2->Create(cms, ConfigMap("after", "4")).ok());
  CHECK(Eventually([&] { return rec.Of("a").size() == 3 && rec.Of("after").size() == 1; }, 90s));

  CHECK(rec.Of("before") == std::vector<std::string>{"add:0", "delete:0"});
  CHECK(rec.Of("a") == std::vector<std::string>{"add:1", "update:2", "update:3"});
  CHECK(rec.Of("after") == std::vector<std::string>{"add:4"});
  auto server = c2->ListAll(cms, {"", "metadata.name!=kube-root-ca.crt", "", 0, ""});
  REQUIRE(server.ok());
  std::vector<std::string> server_keys, cache_keys;
  for (const auto& item : server->items) server_keys.push_back(Informer::KeyOf(item));
  for (const auto& item : inf.List()) cache_keys.push_back(Informer::KeyOf(item));
  std::sort(server_keys.begin(), server_keys.end());
  std::sort(cache_keys.begin(), cache_keys.end());
  CHECK(cache_keys == server_keys);
  CHECK((*inf.Get(ns + "/a"))["data"]["k"] == "3");
  MESSAGE("relists after the restart: " << inf.Relists() << "; last error: " << inf.LastError().ToString());
  inf.Stop();
  std::lock_guard<std::mutex> lock(causes_mu);
  CHECK(causes.size() == inf.Relists());  // each relist is reported, with the 410 that caused it
  for (const auto& cause : causes) CHECK_MESSAGE(IsExpired(cause), cause.ToString());
}

TEST_CASE("a handler with on_add_many gets a list's objects in one call and the watch's one by one") {
  auto c = NewClient();
  const std::string ns = NewNamespace(*c, "informer-many");
  const ResourceRef cms = ConfigMaps(ns);
  for (int i = 0; i < 5; ++i) REQUIRE(c->Create(cms, ConfigMap("c" + std::to_string(i), "0")).ok());
  const ListOptions cached{"", "metadata.name!=kube-root-ca.crt", "0", 0, ""};
  // The informer lists from the watch cache: wait until that cache has all five.
  REQUIRE(Eventually([&] {
    auto l = c->ListAll(cms, cached);
    return l.ok() && l->items.size() == 5;
  }));
  Informer::Options o;
  o.field_selector = cached.field_selector;
  Informer inf(*c, cms, o);
  std::mutex mu;
  std::vector<size_t> batches;  // sizes of the on_add_many calls
  std::vector<std::string> single, plain;
  EventHandlers many;
  many.on_add = [&](const Json& obj) {
    std::lock_guard<std::mutex> lock(mu);
    single.push_back(obj["metadata"]["name"]);
  };
  many.on_add_many = [&](const std::vector<Json>& objs) {
    std::lock_guard<std::mutex> lock(mu);
    batches.push_back(objs.size());
  };
  inf.AddHandlers(many);
  inf.AddHandlers({[&](const Json& obj) {
    std::lock_guard<std::mutex> lock(mu);
    plain.push_back(obj["metadata"]["name"]);
  }});
  inf.Start();
  REQUIRE(inf.WaitForSync(30s));
  REQUIRE(c->Create(cms, ConfigMap("later", "1")).ok());
  CHECK(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return plain.size() == 6 && !single.empty();
  }));
  inf.Stop();
  std::lock_guard<std::mutex> lock(mu);
  CHECK(batches == std::vector<size_t>{5});
  CHECK(single == std::vector<std::string>{"later"});
  CHECK(plain.size() == 6);  // a handler without on_add_many: every object one by one
}

}  // namespace
}  // namespace tmcd::kube::live
