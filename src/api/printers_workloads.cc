// kube-apiserver's printers for the workload kinds tmcd syncs (pkg/printers/internalversion): the
// same columns and cell formats, computed from tmcd's generic objects, which are not defaulted (an
// absent spec.replicas prints as kube's default 1, an absent CronJob suspend as False).
#include <algorithm>
#include <cctype>

#include "api/printer_util.h"
#include "apis/meta/selector.h"
#include "common/strings.h"

namespace tmcd::api::printing {
namespace {

bool HasCondition(const Json& obj, const char* type) {
  const Json& conds = Field(obj, "status", "conditions");
  if (!conds.is_array()) return false;
  for (const auto& c : conds) {
    if (Str(Field(c, "type")) == type && Str(Field(c, "status")) == "True") return true;
  }
  return false;
}

std::string JobStatus(const Json& o) {
  if (HasCondition(o, "Complete")) return "Complete";
  if (HasCondition(o, "Failed")) return "Failed";
  if (!Field(o, "metadata", "deletionTimestamp").is_null()) return "Terminating";
  if (HasCondition(o, "Suspended")) return "Suspended";
  if (HasCondition(o, "FailureTarget")) return "FailureTarget";
  if (HasCondition(o, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

std::string JobCompletions(const Json& o) {
  const std::string done = std::to_string(Int(Field(o, "status", "succeeded")));
  if (Field(o, "spec", "completions").is_number_integer()) {
    return done + "/" + std::to_string(Int(Field(o, "spec", "completions")));
  }
  const int64_t parallelism = Int(Field(o, "spec", "parallelism"));
  return parallelism > 1 ? done + "/1 of " + std::to_string(parallelism) : done + "/1";
}

std::string JobDuration(const Json& o, TimePoint now) {
  auto start = apis::Time::Parse(Str(Field(o, "status", "startTime")));
  if (!start.ok()) return "";
  auto end = apis::Time::Parse(Str(Field(o, "status", "completionTime")));
  const TimePoint from{std::chrono::seconds(start->seconds)};
  const TimePoint to = end.ok() ? TimePoint(std::chrono::seconds(end->seconds)) : now;
  return HumanAge(std::chrono::duration_cast<std::chrono::seconds>(to - from));
}

// An IntOrString as kube prints it; "N/A" when absent.
std::string IntOrString(const Json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return v.is_string() ? v.get<std::string>() : "N/A";
}

std::string IngressHosts(const Json& rules) {
  std::string out;
  size_t listed = 0;
  const size_t n = rules.is_array() ? rules.size() : 0;
  for (size_t i = 0; i < n && listed < 3; ++i) {
    const std::string host = Str(Field(rules[i], "host"));
    if (host.empty()) continue;
    out += (out.empty() ? "" : ",") + host;
    ++listed;
  }
  if (out.empty()) return "*";
  return n > 3 ? out + " + " + std::to_string(n - 3) + " more..." : out;
}

std::string LoadBalancerAddress(const Json& obj) {
  std::string out;
  const Json& ingress = Field(Field(obj, "status", "loadBalancer"), "ingress");
  if (!ingress.is_array()) return out;
  for (const auto& i : ingress) {
    const std::string v = Str(Field(i, "ip")).empty() ? Str(Field(i, "hostname")) : Str(Field(i, "ip"));
    if (!v.empty()) out += (out.empty() ? "" : ",") + v;
  }
  return out;
}

std::string AccessModes(const Json& modes) {
  std::string out;
  if (!modes.is_array()) return out;
  for (const char* m : {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"}) {
    const bool has = std::find(modes.begin(), modes.end(), Json(m)) != modes.end();
    const std::string abbrev = std::string(m) == "ReadWriteOnce"   ? "RWO"
                               : std::string(m) == "ReadOnlyMany"  ? "ROX"
                               : std::string(m) == "ReadWriteMany" ? "RWX"
                                                                   : "RWOP";
    if (has) out += (out.empty() ? "" : ",") + abbrev;
  }
  return out;
}

constexpr BuiltinColumn kContainers{"Containers", "string", 1, "Names of each container in the template."};
constexpr BuiltinColumn kImages{"Images", "string", 1, "Images referenced by each container in the template."};
constexpr BuiltinColumn kAge{"Age", "string", 0, ""};

}  // namespace

BuiltinPrinter StatefulSetPrinter() {
  return {{{"Ready", "string", 0, "Number of the pod with ready state"}, kAge, kContainers, kImages},
          [](const Json& o, TimePoint now) {
            const auto [names, images] = ContainerCells(Field(o, "spec", "template"));
            return Json::array({std::to_string(Int(Field(o, "status", "readyReplicas"))) + "/" +
                                    std::to_string(Int(Field(o, "spec", "replicas"), 1)),
                                Age(o, now), names, images});
          }};
}

BuiltinPrinter DaemonSetPrinter() {
  return {{{"Desired", "integer", 0, "The total number of nodes that should be running the daemon pod"},
           {"Current", "integer", 0, "The number of nodes running at least one daemon pod"},
           {"Ready", "integer", 0, "The number of nodes running the daemon pod and ready"},
           {"Up-to-date", "integer", 0, "The number of nodes running the updated daemon pod"},
           {"Available", "integer", 0, "The number of nodes running the daemon pod and available"},
           {"Node Selector", "string", 0, "The node selector of the pod template"},
           kAge,
           kContainers,
           kImages,
           {"Selector", "string", 1, "The label selector of the daemon set"}},
          [](const Json& o, TimePoint now) {
            const Json& st = Field(o, "status");
            const Json& tmpl = Field(o, "spec", "template");
            const auto [names, images] = ContainerCells(tmpl);
            return Json::array({Int(Field(st, "desiredNumberScheduled")), Int(Field(st, "currentNumberScheduled")),
                                Int(Field(st, "numberReady")), Int(Field(st, "updatedNumberScheduled")),
                                Int(Field(st, "numberAvailable")),
                                OrNone(FormatLabels(Field(Field(tmpl, "spec"), "nodeSelector"))), Age(o, now), names,
                                images, OrNone(apis::LabelSelectorString(Field(o, "spec", "selector")))});
          }};
}

BuiltinPrinter ReplicaSetPrinter() {
  return {{{"Desired", "integer", 0, "Number of desired pods"},
           {"Current", "integer", 0, "The most recently observed number of replicas"},
           {"Ready", "integer", 0, "The number of ready replicas"},
           kAge,
           kContainers,
           kImages,
           {"Selector", "string", 1, "The label selector of the replica set"}},
          [](const Json& o, TimePoint now) {
            const auto [names, images] = ContainerCells(Field(o, "spec", "template"));
            return Json::array({Int(Field(o, "spec", "replicas"), 1), Int(Field(o, "status", "replicas")),
                                Int(Field(o, "status", "readyReplicas")), Age(o, now), names, images,
                                OrNone(apis::LabelSelectorString(Field(o, "spec", "selector")))});
          }};
}

BuiltinPrinter JobPrinter() {
  return {{{"Status", "string", 0, "Status of the job."},
           {"Completions", "string", 0, "The number of pods which reached phase Succeeded."},
           {"Duration", "string", 0, "Time required to complete the job."},
           kAge,
           kContainers,
           kImages,
           {"Selector", "string", 1, "The label selector of the job's pods"}},
          [](const Json& o, TimePoint now) {
            const auto [names, images] = ContainerCells(Field(o, "spec", "template"));
            return Json::array({JobStatus(o), JobCompletions(o), JobDuration(o, now), Age(o, now), names, images,
                                OrNone(apis::LabelSelectorString(Field(o, "spec", "selector")))});
          }};
}

BuiltinPrinter CronJobPrinter() {
  return {{{"Schedule", "string", 0, "The schedule in Cron format"},
           {"Timezone", "string", 0, "The time zone name for the given schedule"},
           {"Suspend", "boolean", 0, "Whether subsequent executions are suspended"},
           {"Active", "integer", 0, "Pointers to currently running jobs"},
           {"Last Schedule", "string", 0, "The last time the job was successfully scheduled"},
           kAge,
           kContainers,
           kImages,
           {"Selector", "string", 1, "The label selector of the jobs' pods"}},
          [](const Json& o, TimePoint now) {
            const Json& job = Field(Field(o, "spec", "jobTemplate"), "spec");
            const auto [names, images] = ContainerCells(Field(job, "template"));
            const Json& suspend = Field(o, "spec", "suspend");
            const std::string last = Since(Field(o, "status", "lastScheduleTime"), now);
            return Json::array({Str(Field(o, "spec", "schedule")), OrNone(Str(Field(o, "spec", "timeZone"))),
                                suspend.is_boolean() && suspend.get<bool>() ? "True" : "False",
                                Count(Field(o, "status", "active")), OrNone(last), Age(o, now), names, images,
                                OrNone(apis::LabelSelectorString(Field(job, "selector")))});
          }};
}

BuiltinPrinter IngressPrinter() {
  return {
      {{"Class", "string", 0, "The name of the IngressClass resource that should be used"},
       {"Hosts", "string", 0, "Hosts that incoming requests are matched against before the ingress rule"},
       {"Address", "string", 0, "Address is a list containing ingress points for the load-balancer"},
       {"Ports", "string", 0, "Ports of TLS configurations that open"},
       kAge},
      [](const Json& o, TimePoint now) {
        const bool tls = Count(Field(o, "spec", "tls")) != 0;
        return Json::array({OrNone(Str(Field(o, "spec", "ingressClassName"))), IngressHosts(Field(o, "spec", "rules")),
                            LoadBalancerAddress(o), tls ? "80, 443" : "80", Age(o, now)});
      }};
}

BuiltinPrinter NetworkPolicyPrinter() {
  return {{{"Pod-Selector", "string", 0, "The pods the policy applies to"}, kAge}, [](const Json& o, TimePoint now) {
            return Json::array({OrNone(apis::LabelSelectorString(Field(o, "spec", "podSelector"))), Age(o, now)});
          }};
}

BuiltinPrinter PersistentVolumeClaimPrinter() {
  return {{{"Status", "string", 0, "The current phase of the claim"},
           {"Volume", "string", 0, "The binding reference to the PersistentVolume"},
           {"Capacity", "string", 0, "The actual resources of the underlying volume"},
           {"Access Modes", "string", 0, "The actual access modes the volume backing the PVC has"},
           {"StorageClass", "string", 0, "StorageClass of the pvc"},
           {"VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pvc"},
           kAge,
           {"VolumeMode", "string", 1, "The volume mode of the pvc"}},
          [](const Json& o, TimePoint now) {
            const bool deleting = !Field(o, "metadata", "deletionTimestamp").is_null();
            const std::string volume = Str(Field(o, "spec", "volumeName"));
            const Json& storage = Field(Field(o, "status", "capacity"), "storage");
            return Json::array({deleting ? "Terminating" : Str(Field(o, "status", "phase")), volume,
                                volume.empty() ? "" : Str(storage),
                                volume.empty() ? "" : AccessModes(Field(o, "status", "accessModes")),
                                Str(Field(o, "spec", "storageClassName")),
                                Str(Field(o, "spec", "volumeAttributesClassName"), "<unset>"), Age(o, now),
                                Str(Field(o, "spec", "volumeMode"), "<unset>")});
          }};
}

BuiltinPrinter PodDisruptionBudgetPrinter() {
  return {{{"Min Available", "string", 0, "The minimum number of pods that must be available."},
           {"Max Unavailable", "string", 0, "The maximum number of pods that may be unavailable."},
           {"Allowed Disruptions", "integer", 0, "Calculated number of pods that may be disrupted at this time."},
           kAge},
          [](const Json& o, TimePoint now) {
            return Json::array({IntOrString(Field(o, "spec", "minAvailable")),
                                IntOrString(Field(o, "spec", "maxUnavailable")),
                                Int(Field(o, "status", "disruptionsAllowed")), Age(o, now)});
          }};
}

// kube's printEvent: no NAME column first; OBJECT is "<kind>/<name>" in lower-case kind.
BuiltinPrinter EventPrinter() {
  BuiltinPrinter p{
      {{"Last Seen", "string", 0, ""},
       {"Type", "string", 0, ""},
       {"Reason", "string", 0, ""},
       {"Object", "string", 0, ""},
       {"Subobject", "string", 1, ""},
       {"Source", "string", 1, ""},
       {"Message", "string", 0, ""},
       {"First Seen", "string", 1, ""},
       {"Count", "integer", 1, ""},
       {"Name", "string", 1, ""}},
      [](const Json& o, TimePoint now) {
        std::string first = Since(Field(o, "firstTimestamp"), now);
        if (first.empty()) first = Since(Field(o, "eventTime"), now);
        std::string last = Since(Field(o, "lastTimestamp"), now);
        if (last.empty()) last = first;
        int64_t count = Int(Field(o, "count"));
        if (const Json& series = Field(o, "series"); series.is_object()) {
          last = Since(Field(series, "lastObservedTime"), now);
          count = Int(Field(series, "count"));
        }
        const Json& involved = Field(o, "involvedObject");
        std::string kind = Str(Field(involved, "kind"));
        std::transform(kind.begin(), kind.end(), kind.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const std::string name = Str(Field(involved, "name"));
        std::string source = Str(Field(o, "source", "component"));
        if (source.empty()) source = Str(Field(o, "reportingComponent"));
        if (const std::string host = Str(Field(o, "source", "host")); !host.empty()) {
          source += ", " + host;
        }
        std::string message = Str(Field(o, "message"));
        message = std::string(Trim(message));
        return Json::array({last.empty() ? "<unknown>" : last, Str(Field(o, "type")), Str(Field(o, "reason")),
                            name.empty() ? kind : kind + "/" + name, Str(Field(involved, "fieldPath")), source, message,
                            first.empty() ? "<unknown>" : first, count == 0 ? 1 : count,
                            Str(Field(o, "metadata", "name"))});
      }};
  p.name_column = false;
  return p;
}

}  // namespace tmcd::api::printing
