#include "api/printers.h"

#include <map>
#include <set>

#include "api/printer_util.h"
#include "api/table.h"
#include "apis/meta/selector.h"
#include "apis/meta/time.h"

namespace tmcd::api {
namespace {

using namespace printing;  // NOLINT(google-build-using-namespace): the shared cell helpers

std::string ServicePorts(const Json& ports) {
  std::string out;
  if (!ports.is_array()) return out;
  for (const auto& p : ports) {
    std::string s = std::to_string(Int(Field(p, "port")));
    if (Int(Field(p, "nodePort")) != 0) s += ":" + std::to_string(Int(Field(p, "nodePort")));
    s += "/" + Str(Field(p, "protocol"), "TCP");
    out += (out.empty() ? "" : ",") + s;
  }
  return out;
}

std::string ServiceExternalIp(const Json& svc) {
  const std::string type = Str(Field(svc, "spec", "type"), "ClusterIP");
  std::string ips;
  for (const auto& ip : Field(svc, "spec", "externalIPs").is_array() ? Field(svc, "spec", "externalIPs") : Json()) {
    ips += (ips.empty() ? "" : ",") + Str(ip);
  }
  if (type == "ExternalName") return Str(Field(svc, "spec", "externalName"));
  if (type == "LoadBalancer") {
    const Json& ingress = Field(Field(svc, "status", "loadBalancer"), "ingress");
    std::string lb;
    if (ingress.is_array()) {
      for (const auto& i : ingress) {
        const std::string v = Str(Field(i, "ip")).empty() ? Str(Field(i, "hostname")) : Str(Field(i, "ip"));
        if (!v.empty()) lb += (lb.empty() ? "" : ",") + v;
      }
    }
    if (!ips.empty()) lb = lb.empty() ? ips : ips + "," + lb;
    return lb.empty() ? "<pending>" : lb;
  }
  return OrNone(ips);
}

std::string Subjects(const Json& binding, const char* kind) {
  std::string out;
  const Json& subjects = Field(binding, "subjects");
  if (!subjects.is_array()) return out;
  for (const auto& s : subjects) {
    if (Str(Field(s, "kind")) != kind) continue;
    std::string name = Str(Field(s, "name"));
    if (std::string_view(kind) == "ServiceAccount") name = Str(Field(s, "namespace")) + "/" + name;
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

BuiltinPrinter Binding() {
  return {{{"Role", "string", 0, "The role the binding grants"},
           {"Age", "string", 0, ""},
           {"Users", "string", 1, ""},
           {"Groups", "string", 1, ""},
           {"ServiceAccounts", "string", 1, ""}},
          [](const Json& o, TimePoint now) {
            return Json::array({Str(Field(o, "roleRef", "kind")) + "/" + Str(Field(o, "roleRef", "name")), Age(o, now),
                                Subjects(o, "User"), Subjects(o, "Group"), Subjects(o, "ServiceAccount")});
          }};
}

BuiltinPrinter Role() {
  return {{{"Created At", "date", 0, ""}},
          [](const Json& o, TimePoint) { return Json::array({Str(Field(o, "metadata", "creationTimestamp"))}); }};
}

const std::map<std::string_view, BuiltinPrinter>& Printers() {
  static const std::map<std::string_view, BuiltinPrinter> kPrinters = {
      {"Namespace",
       {{{"Status", "string", 0, "The status of the namespace"}, {"Age", "string", 0, ""}},
        [](const Json& o, TimePoint now) {
          return Json::array({Str(Field(o, "status", "phase")), Age(o, now)});
        }}},
      {"ConfigMap",
       {{{"Data", "string", 0, "Number of data entries"}, {"Age", "string", 0, ""}},
        [](const Json& o, TimePoint now) {
          return Json::array({Count(Field(o, "data")) + Count(Field(o, "binaryData")), Age(o, now)});
        }}},
      {"Secret",
       {{{"Type", "string", 0, "The type of the secret"},
         {"Data", "string", 0, "Number of data entries"},
         {"Age", "string", 0, ""}},
        [](const Json& o, TimePoint now) {
          return Json::array({Str(Field(o, "type"), "Opaque"), Count(Field(o, "data")), Age(o, now)});
        }}},
      {"Service",
       {{{"Type", "string", 0, "The type of the service"},
         {"Cluster-IP", "string", 0, "The cluster IP of the service"},
         {"External-IP", "string", 0, "The external IPs of the service"},
         {"Port(s)", "string", 0, "The ports the service exposes"},
         {"Age", "string", 0, ""},
         {"Selector", "string", 1, "The label selector of the service"}},
        [](const Json& o, TimePoint now) {
          return Json::array({Str(Field(o, "spec", "type"), "ClusterIP"), OrNone(Str(Field(o, "spec", "clusterIP"))),
                              ServiceExternalIp(o), OrNone(ServicePorts(Field(o, "spec", "ports"))), Age(o, now),
                              OrNone(FormatLabels(Field(o, "spec", "selector")))});
        }}},
      {"Deployment",
       {{{"Ready", "string", 0, "Ready replicas over desired replicas"},
         {"Up-to-date", "integer", 0, "Replicas updated to the desired template"},
         {"Available", "integer", 0, "Available replicas"},
         {"Age", "string", 0, ""},
         {"Containers", "string", 1, "The containers' names"},
         {"Images", "string", 1, "The containers' images"},
         {"Selector", "string", 1, "The label selector of the deployment"}},
        [](const Json& o, TimePoint now) {
          std::string names;
          std::string images;
          const Json& containers = Field(Field(Field(o, "spec", "template"), "spec"), "containers");
          if (containers.is_array()) {
            for (const auto& c : containers) {
              names += (names.empty() ? "" : ",") + Str(Field(c, "name"));
              images += (images.empty() ? "" : ",") + Str(Field(c, "image"));
            }
          }
          const std::string ready = std::to_string(Int(Field(o, "status", "readyReplicas"))) + "/" +
                                    std::to_string(Int(Field(o, "spec", "replicas"), 1));
          return Json::array({ready, Int(Field(o, "status", "updatedReplicas")),
                              Int(Field(o, "status", "availableReplicas")), Age(o, now), names, images,
                              OrNone(apis::LabelSelectorString(Field(o, "spec", "selector")))});
        }}},
      {"StatefulSet", StatefulSetPrinter()},
      {"DaemonSet", DaemonSetPrinter()},
      {"ReplicaSet", ReplicaSetPrinter()},
      {"Job", JobPrinter()},
      {"CronJob", CronJobPrinter()},
      {"Ingress", IngressPrinter()},
      {"NetworkPolicy", NetworkPolicyPrinter()},
      {"PersistentVolumeClaim", PersistentVolumeClaimPrinter()},
      {"PodDisruptionBudget", PodDisruptionBudgetPrinter()},
      {"Event", EventPrinter()},
      {"Role", Role()},
      {"ClusterRole", Role()},
      {"RoleBinding", Binding()},
      {"ClusterRoleBinding", Binding()},
  };
  return kPrinters;
}

}  // namespace

const BuiltinPrinter* FindBuiltinPrinter(std::string_view kind) {
  const auto it = Printers().find(kind);
  return it == Printers().end() ? nullptr : &it->second;
}

}  // namespace tmcd::api
