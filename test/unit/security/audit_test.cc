// The audit log: kube's audit.k8s.io/v1 Event shape, levels, no Secret bodies, size rotation.
#include "security/audit.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "store/temp_store.h"

namespace tmcd::security {
namespace {

std::vector<nlohmann::json> Lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST_CASE("audit events: Metadata and Request levels, no Secret bodies, rotation by size") {
  store::testing::TempDir dir;
  const std::string path = dir.path() + "/audit.log";
  UserInfo alice{"alice", "7", {"tenants", "system:authenticated"}, true, "x509"};
  Attributes a;
  a.workspace = "root:a";
  a.verb = "create";
  a.resource = "configmaps";
  a.namespace_ = "shop";
  const std::string body = R"({"kind":"ConfigMap","data":{"k":"v"}})";
  AuditRecord r{&alice,
                &a,
                "POST",
                "/clusters/root:a/api/v1/namespaces/shop/configmaps",
                "127.0.0.1:5000",
                "kubectl/v1.35",
                201,
                true,
                "RoleBinding \"t\"",
                std::chrono::system_clock::now(),
                std::chrono::system_clock::now(),
                &body};
  const auto ev = AuditLog::EventFor(r, "Metadata", "id-1");
  CHECK(ev["apiVersion"] == "audit.k8s.io/v1");
  CHECK(ev["kind"] == "Event");
  CHECK(ev["user"]["username"] == "alice");
  CHECK(ev["verb"] == "create");
  CHECK(ev["objectRef"] == nlohmann::json{{"resource", "configmaps"}, {"apiGroup", ""}, {"namespace", "shop"}});
  CHECK(ev["responseStatus"]["code"] == 201);
  CHECK(ev["annotations"]["tmc.kcp.io/workspace"] == "root:a");
  CHECK(ev["annotations"]["authorization.k8s.io/decision"] == "allow");
  CHECK_FALSE(ev.contains("requestObject"));
  CHECK(AuditLog::EventFor(r, "Request", "id-2")["requestObject"]["data"]["k"] == "v");
  a.resource = "secrets";
  CHECK_FALSE(AuditLog::EventFor(r, "Request", "id-3").contains("requestObject"));  // never a Secret's body
  a.resource = "configmaps";

  AuditOptions o;
  o.path = path;
  o.level = "Request";
  o.max_bytes = 2000;
  o.max_backups = 2;
  {
    auto log = AuditLog::Open(o);
    REQUIRE(log.ok());
    for (int i = 0; i < 20; ++i) (*log)->Record(r);
    (*log)->Flush();
    CHECK((*log)->dropped() == 0);
  }
  CHECK(std::filesystem::exists(path + ".1"));
  CHECK(std::filesystem::exists(path + ".2"));
  CHECK_FALSE(std::filesystem::exists(path + ".3"));
  CHECK(std::filesystem::file_size(path) <= 2000);
  const auto lines = Lines(path + ".1");
  REQUIRE_FALSE(lines.empty());
  CHECK(lines[0]["auditID"] != Lines(path)[0]["auditID"]);
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
  o.level = "Verbose";
  CHECK_FALSE(AuditLog::Open(o).ok());
}

}  // namespace
}  // namespace tmcd::security
