#pragma once
// tmcd configuration: YAML file < TMCD_* environment < command-line flags (docs/design/architecture.md §8).
// One table of keys (ConfigKeys()) drives all three sources, --print-default-config and the man
// page check, so a key cannot exist in one place and be missing in another.
// Config is a value type. ConfigLoader is not thread-safe; the app uses it from the main thread.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/feature_gates.h"
#include "common/status.h"

namespace tmcd {

// kcp mode: a resource tmcd claims in its APIExport besides its own (docs/kcp-integration.md#claimed-resources),
// written "<resource>.<version>[.<group>][:<identityHash>]" like kcp's own resource:identity notation.
// identity_hash is the providing APIExport's status.identityHash; empty for a kind kcp itself serves.
struct ClaimedResource {
  std::string group, version, resource, identity_hash;
  std::string String() const;  // the notation above
  bool operator==(const ClaimedResource&) const = default;
};
Result<ClaimedResource> ParseClaimedResource(std::string_view text);

struct Config {
  std::string listen = "127.0.0.1:7080";
  std::string port_file;
  // Security (docs/security.md). The TCP listener speaks TLS unless insecure_http.
  bool insecure_http = false;
  std::string unix_socket = "auto";  // "auto": $RUNTIME_DIRECTORY/tmcd.sock, else <dataDir>/tmcd.sock; "" = none
  std::string tls_cert_file;         // "" = tmcd's own, in <dataDir>/pki
  std::string tls_key_file;
  std::vector<std::string> tls_hosts = {"localhost", "127.0.0.1", "::1"};
  std::string auth_client_ca_file;  // "" = tmcd's own CA (<dataDir>/pki/ca.crt)
  std::string auth_token_file;
  std::vector<std::string> auth_anonymous_paths = {"/healthz", "/livez", "/readyz", "/version"};
  std::string auth_admin_group = "tmcd";
  std::string encryption_key_file = "auto";
  std::string audit_path = "auto";  // "auto": $LOGS_DIRECTORY/audit.log, else <dataDir>/audit.log; "" = none
  std::string audit_level = "Metadata";
  size_t audit_max_size_mb = 100;
  size_t audit_max_backups = 5;  // "auto": <dataDir>/encryption-keys.yaml, made on first start
  size_t api_max_request_bytes = size_t{3} * 1024 * 1024;
  size_t api_max_watches = 2000;
  size_t api_max_buffered_request_bytes = size_t{256} << 20;
  size_t api_max_watch_output_bytes = size_t{256} << 20;
  size_t api_max_watch_lag_bytes = size_t{64} << 20;
  bool store_fsync = true;
  size_t store_keep_revisions = 100000;
  size_t store_min_free_bytes = size_t{256} << 20;
  std::chrono::milliseconds store_compaction_interval{30000};
  std::string data_dir = "/var/lib/tmcd";
  std::string log_level = "info";
  std::string log_format = "text";
  std::string tracing_endpoint;  // OTLP/HTTP; "" = spans are not exported (docs/observability.md#traces)
  double tracing_sampling_ratio = 1.0;
  std::chrono::milliseconds shutdown_timeout{10000};
  std::chrono::milliseconds event_ttl{3600000};  // Events of the local store expire this long after their last change
  // Where the TMC objects come from (docs/design/architecture.md §1): "embedded" (the local API) or "kcp".
  std::string upstream_kind = "embedded";
  std::string upstream_kubeconfig;  // kcp mode: kubeconfig for the provider workspace
  std::string upstream_context;     // its context ("" = current-context)
  std::string upstream_workspace = "root:tmc";
  bool upstream_export_workload_types = true;                    // also export the workload kinds' schemas
  std::vector<ClaimedResource> upstream_claimed_resources;       // kcp mode: other exports' resources to sync
  std::chrono::milliseconds clusters_inventory_interval{60000};  // Nodes, Pods, discovery per cluster
  std::chrono::milliseconds clusters_heartbeat_interval{60000};  // status written at least this often
  size_t clusters_workers = 4;
  size_t sync_workers = 4;  // workloads reconciled in parallel
  size_t sync_qps = 200;    // per cluster client; burst 2x
  // Failover of advanced placement (docs/placement.md#failover).
  std::chrono::milliseconds failover_grace_period{600000};
  size_t failover_max_moves = 10;
  std::chrono::milliseconds failover_interval{60000};
  FeatureGates gates;
  // Where the file part came from ("" when no file was read). Not a key.
  std::string source_file;
};

struct ConfigKey {
  std::string_view path;                                            // dotted YAML path, e.g. "logging.level"
  std::string_view flag;                                            // long flag without dashes, e.g. "log-level"
  std::string_view env;                                             // environment variable, e.g. "TMCD_LOG_LEVEL"
  std::string_view type;                                            // for docs: string, duration, enum, map[string]bool
  std::string_view doc;                                             // one line
  bool reloadable;                                                  // applied again on SIGHUP
  std::function<std::string(const Config&)> show;                   // current value, YAML scalar form
  std::function<Status(Config&, const std::string& value)> assign;  // parse + range check
};

const std::vector<ConfigKey>& ConfigKeys();

// Parses a Go-style duration ("500ms", "10s", "1m30s", "2h"). Negative values are rejected.
Result<std::chrono::milliseconds> ParseDuration(std::string_view s);
std::string FormatDuration(std::chrono::milliseconds d);

// Applies the three sources in order. Errors name the source: "<file>:<line>:<col>: <key>: ..."
// for the file, the variable name for the environment, "--flag" for flags.
class ConfigLoader {
 public:
  using Env = std::function<std::optional<std::string>(std::string_view name)>;
  // `config_file`: explicit path (must exist) or "" for the default path, read only if present.
  ConfigLoader(std::string config_file, std::map<std::string, std::string> flags, Env env);
  static Env ProcessEnv();
  static constexpr std::string_view kDefaultPath = "/etc/tmcd/tmcd.yaml";

  Result<Config> Load() const;

 private:
  Status LoadFile(Config& cfg, const std::string& path) const;
  std::string config_file_;
  std::map<std::string, std::string> flags_;  // flag name → raw value, only flags given
  Env env_;
};

// Rules that span keys (kcp mode needs a kubeconfig and the TMCAPIExport gate). Load() applies it.
Status ValidateConfig(const Config& c);

// The documented default configuration as YAML (every key, its default, one line of doc).
std::string DefaultConfigYaml();

}  // namespace tmcd
