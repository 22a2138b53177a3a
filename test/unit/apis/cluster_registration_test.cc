#include <doctest/doctest.h>

#include "apis/tmc/v1alpha1/register.h"
#include "common/strings.h"

namespace tmcd::apis::v1alpha1 {
namespace {

// A real self-signed test CA (public, generated for these tests only).
constexpr std::string_view kCaPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhDCCASugAwIBAgIUKG0hSpla1LsOB4s5wd8pF60KfEEwCgYIKoZIzj0EAwIw\n"
    "FzEVMBMGA1UEAwwMdG1jZC10ZXN0LWNhMCAXDTI2MTEyNzA5NTgyOFoYDzIxMjYx\n"
    "MTAzMDk1ODI4WjAXMRUwEwYDVQQDDAx0bWNkLXRlc3QtY2EwWTATBgcqhkjOPQIB\n"
    "BggqhkjOPQMBBwNCAASpX+JUFwyeHbkjoi8iZZuogpFEiWxPG7VxbTHyh2cAVIm7\n"
    "DH0Gf3BPcsqI+42VSboViyBIx1CI06HNWCI4xkTno1MwUTAdBgNVHQ4EFgQUX2XZ\n"
    "zgbbS6mPEVsNCivObzBtiigwHwYDVR0jBBgwFoAUX2XZzgbbS6mPEVsNCivObzBt\n"
    "iigwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAIqmCj6sXgpjUN\n"
    "ojpJS3StjYML+Q64BUTXEs4G5vrLOgIgK/oErxph5T/0+F8fZRG3wAuag0CsxgT7\n"
    "bmDuFR3BiO8=\n"
    "-----END CERTIFICATE-----\n";

const nlohmann::json kBase = nlohmann::json::parse(
    R"({"apiVersion":"tmc.kcp.io/v1alpha1","kind":"ClusterRegistration","metadata":{"name":"c1"},)"
    R"("spec":{"location":"us-west-2","endpoint":{"server":"https://10.0.0.1:6443"}}})");

Result<ClusterRegistration> WithPatch(const std::string& merge_patch) {
  nlohmann::json doc = kBase;
  doc.merge_patch(nlohmann::json::parse(merge_patch));
  return DecodeObject<ClusterRegistration>(doc.dump());
}

TEST_CASE("defaults fill syncedResources and healthCheck") {
  auto c = WithPatch("{}");
  REQUIRE(c.ok());
  CHECK(c->spec.health_check == HealthCheck{10, 3, 5});
  REQUIRE(c->spec.synced_resources.size() == 15);
  CHECK(c->spec.synced_resources[0].String() == "deployments.apps");
  CHECK(c->spec.synced_resources[4].String() == "jobs.batch");
  CHECK(c->spec.synced_resources[14].String() == "serviceaccounts");
  auto partial = WithPatch(R"({"spec":{"healthCheck":{"periodSeconds":30}}})");
  REQUIRE(partial.ok());
  CHECK(partial->spec.health_check == HealthCheck{30, 3, 5});
}

TEST_CASE("every ClusterRegistration rule, valid and invalid") {
  const std::string ca = Base64Encode(kCaPem);
  struct Row {
    std::string patch;
    std::string want;  // "" = valid; else a substring of the Status message
  };
  const std::vector<Row> rows = {
      {R"({"spec":{"zone":"us-west-2a","provider":"aws"}})", ""},
      {R"({"spec":{"endpoint":{"caBundle":")" + ca + R"("}}})", ""},
      {R"({"spec":{"endpoint":{"server":"http://127.0.0.1:8080","insecureSkipTLSVerify":true}}})", ""},
      {R"({"spec":{"credentialsRef":{"namespace":"tmc-system","name":"c1.creds"}}})", ""},
      {R"({"spec":{"taints":[{"key":"example.com/maint","value":"true","effect":"PreferNoSchedule"}]}})", ""},
      {R"({"spec":{"capacity":{"cpu":"64","memory":"256Gi","pods":1100,"example.com/gpu":"8"}}})", ""},
      {R"({"spec":{"syncedResources":[{"group":"apps","resource":"deployments"},{"resource":"services"}]}})", ""},
      {R"({"metadata":{"name":"Bad_Name"}})", "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 label"},
      {R"({"metadata":{"name":"a.b"}})", "metadata.name: Invalid value: \"a.b\""},
      {R"({"metadata":{"name":null}})", "metadata.name: Required value"},
      {R"({"metadata":{"name":null,"generateName":"c-"}})", ""},
      {R"({"metadata":{"labels":{"bad key":"v"}}})", "metadata.labels: Invalid value: \"bad key\""},
      {R"({"metadata":{"labels":{"k":"-v"}}})", "metadata.labels[k]: Invalid value: \"-v\""},
      {R"({"metadata":{"finalizers":["a/b","a/b"]}})", "metadata.finalizers[1]: Duplicate value: \"a/b\""},
      {R"({"apiVersion":"tmc.kcp.io/v1"})",
       "apiVersion: Invalid value: \"tmc.kcp.io/v1\": must be tmc.kcp.io/v1alpha1"},
      {R"({"kind":"Cluster"})", "kind: Invalid value: \"Cluster\""},
      {R"({"spec":{"location":null}})", "spec.location: Required value"},
      {R"({"spec":{"location":"US West"}})", "spec.location: Invalid value: \"US West\": must match"},
      {R"({"spec":{"zone":"x_y"}})", "spec.zone: Invalid value"},
      {R"({"spec":{"location":")" + std::string(64, 'a') + R"("}})",
       "spec.location: Too long: may not be more than 63"},
      {R"({"spec":{"endpoint":{"server":null}}})", "spec.endpoint.server: Required value"},
      {R"({"spec":{"endpoint":{"server":"10.0.0.1:6443"}}})",
       "spec.endpoint.server: Invalid value: \"10.0.0.1:6443\": must be an https URL"},
      {R"({"spec":{"endpoint":{"server":"http://10.0.0.1"}}})", "http only with insecureSkipTLSVerify"},
      {R"({"spec":{"endpoint":{"server":"https://"}}})", "must include a host"},
      {R"({"spec":{"endpoint":{"server":"https://a/?x=1"}}})", "must not contain a query"},
      {R"({"spec":{"endpoint":{"caBundle":"not base64!"}}})",
       "spec.endpoint.caBundle: Invalid value: <bytes>: must be standard base64"},
      {R"({"spec":{"endpoint":{"caBundle":")" + Base64Encode("hello") + R"("}}})", "at least one PEM-encoded X.509"},
      {R"({"spec":{"endpoint":{"caBundle":")" +
           Base64Encode("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") + R"("}}})",
       "at least one PEM-encoded X.509"},
      {R"({"spec":{"endpoint":{"caBundle":")" + ca + R"(","insecureSkipTLSVerify":true}}})",
       "spec.endpoint.caBundle: Forbidden: may not be set together with insecureSkipTLSVerify"},
      {R"({"spec":{"endpoint":{"tlsServerName":"Not A Host"}}})", "spec.endpoint.tlsServerName: Invalid value"},
      {R"({"spec":{"credentialsRef":{"name":"x"}}})", "spec.credentialsRef.namespace: Required value"},
      {R"({"spec":{"credentialsRef":{"namespace":"Bad","name":"x"}}})", "spec.credentialsRef.namespace: Invalid value"},
      {R"({"spec":{"taints":[{"key":"k","effect":"Sometimes"}]}})",
       "spec.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", "
       "\"PreferNoSchedule\", \"NoExecute\""},
      {R"({"spec":{"taints":[{"effect":"NoSchedule"}]}})", "spec.taints[0].key: Required value"},
      {R"({"spec":{"taints":[{"key":"k","value":"a b","effect":"NoSchedule"}]}})",
       "spec.taints[0].value: Invalid value"},
      {R"({"spec":{"taints":[{"key":"k","effect":"NoSchedule"},{"key":"k","effect":"NoSchedule"}]}})",
       "spec.taints[1]: Duplicate value: \"k:NoSchedule\""},
      {R"({"spec":{"capacity":{"cpu":"-1"}}})",
       "spec.capacity[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"},
      {R"({"spec":{"capacity":{"bad key":"1"}}})", "spec.capacity: Invalid value: \"bad key\""},
      {R"({"spec":{"syncedResources":[{"group":"apps"}]}})", "spec.syncedResources[0].resource: Required value"},
      {R"({"spec":{"syncedResources":[{"group":"Apps!","resource":"deployments"}]}})",
       "spec.syncedResources[0].group: Invalid value"},
      {R"({"spec":{"syncedResources":[{"resource":"services"},{"resource":"services"}]}})",
       "spec.syncedResources[1]: Duplicate value: \"services\""},
      {R"({"spec":{"healthCheck":{"periodSeconds":0}}})", ""},  // 0 = unset → defaulted to 10
      {R"({"spec":{"healthCheck":{"periodSeconds":-5}}})",
       "spec.healthCheck.periodSeconds: Invalid value: -5: must be greater than or equal to 1"},
      {R"({"spec":{"healthCheck":{"failureThreshold":101}}})",
       "spec.healthCheck.failureThreshold: Invalid value: 101: must be less than or equal to 100"},
      {R"({"spec":{"healthCheck":{"periodSeconds":2,"timeoutSeconds":5}}})",
       "spec.healthCheck.timeoutSeconds: Invalid value: 5: must not exceed periodSeconds (2)"},
      {R"({"status":{"conditions":[{"type":"Ready","status":"Maybe","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"X","message":""}]}})",
       "status.conditions[0].status: Unsupported value: \"Maybe\""},
      {R"({"status":{"conditions":[{"type":"Ready","status":"True","reason":"X","message":""}]}})",
       "status.conditions[0].lastTransitionTime: Required value"},
      {R"({"status":{"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"bad reason","message":""}]}})",
       "status.conditions[0].reason: Invalid value: \"bad reason\""},
      {R"({"status":{"conditions":[{"type":"A","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"X","message":""},)"
       R"({"type":"A","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"X","message":""}]}})",
       "status.conditions[1].type: Duplicate value: \"A\""},
      {R"({"status":{"syncedResources":[{"resource":"deployments","state":"Great"}]}})",
       "status.syncedResources[0].state: Unsupported value"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.patch);
    auto c = WithPatch(r.patch);
    if (r.want.empty()) {
      CHECK_MESSAGE(c.ok(), c.status().message());
    } else {
      REQUIRE_FALSE(c.ok());
      CHECK(c.status().reason() == Reason::kInvalid);
      CHECK_MESSAGE(c.status().message().find(r.want) != std::string::npos, c.status().message());
      CHECK(c.status().message().find("ClusterRegistration.tmc.kcp.io") == 0);
      CHECK_FALSE(c.status().causes().empty());
    }
  }
}

TEST_CASE("several errors are all reported") {
  auto c =
      WithPatch(R"({"spec":{"location":null,"endpoint":{"server":"ftp://x"},"taints":[{"key":"k","effect":"X"}]}})");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().causes().size() == 3);
  CHECK(c.status().message().find("is invalid: [") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::apis::v1alpha1
