#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "common/strings.h"

namespace tmcd {
namespace {

Status OneOf(std::string_view what, const std::string& v, std::initializer_list<std::string_view> allowed,
             std::string& out) {
  for (auto a : allowed) {
    if (v == a) {
      out = v;
      return Status::Ok();
    }
  }
  std::vector<std::string> names(allowed.begin(), allowed.end());
  return Invalid("invalid " + std::string(what) + " " + Quote(v) + ": want one of " + Join(names, ", "));
}

Status ParseSize(const std::string& v, size_t lo, size_t hi, size_t& out) {
  size_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi) {
    return Invalid("invalid value " + Quote(v) + ": want an integer in " + std::to_string(lo) + ".." +
                   std::to_string(hi));
  }
  out = n;
  return Status::Ok();
}

Status ParseBool(const std::string& v, bool& out) {
  if (v != "true" && v != "false") return Invalid("invalid value " + Quote(v) + ": want true or false");
  out = v == "true";
  return Status::Ok();
}

// HOST:PORT with a numeric port 0..65535 (0 = any free port); [::1]:PORT for IPv6.
Status ParseListen(const std::string& v) {
  auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return Invalid("invalid listen address " + Quote(v) + ": want HOST:PORT");
  size_t port = 0;
  if (!ParseSize(v.substr(colon + 1), 0, 65535, port).ok()) {
    return Invalid("invalid listen address " + Quote(v) + ": the port must be 0..65535");
  }
  return Status::Ok();
}

// An integer key of bytes in [lo, hi] (`doc`, a literal, states the range).
ConfigKey ByteKey(std::string_view path, std::string_view flag, std::string_view env, std::string_view doc, size_t lo,
                  size_t hi, size_t Config::*field) {
  return {path,
          flag,
          env,
          "int",
          doc,
          false,
          [field](const Config& c) { return std::to_string(c.*field); },
          [field, lo, hi](Config& c, const std::string& v) { return ParseSize(v, lo, hi, c.*field); }};
}

void AddApiKeys(std::vector<ConfigKey>& keys) {
  keys.push_back({"listen", "listen", "TMCD_LISTEN", "string",
                  "HOST:PORT of the local API (port 0: let the OS choose; see portFile).", false,
                  [](const Config& c) { return c.listen; },
                  [](Config& c, const std::string& v) {
                    TMCD_TRY(ParseListen(v));
                    c.listen = v;
                    return Status::Ok();
                  }});
  keys.push_back({"portFile", "port-file", "TMCD_PORT_FILE", "string",
                  "File that receives the bound port once the API listens (empty: none).", false,
                  [](const Config& c) { return c.port_file.empty() ? std::string("\"\"") : c.port_file; },
                  [](Config& c, const std::string& v) {
                    c.port_file = v;
                    return Status::Ok();
                  }});
  keys.push_back(
      {"api.maxRequestBytes", "api-max-request-bytes", "TMCD_API_MAX_REQUEST_BYTES", "int",
       "Largest accepted request body; larger bodies get 413 (1024..67108864).", false,
       [](const Config& c) { return std::to_string(c.api_max_request_bytes); },
       [](Config& c, const std::string& v) { return ParseSize(v, 1024, 64 << 20, c.api_max_request_bytes); }});
  keys.push_back({"api.maxWatches", "api-max-watches", "TMCD_API_MAX_WATCHES", "int",
                  "Open watch streams allowed at once; more get 429 (1..10000).", false,
                  [](const Config& c) { return std::to_string(c.api_max_watches); },
                  [](Config& c, const std::string& v) { return ParseSize(v, 1, 10000, c.api_max_watches); }});
  keys.push_back(ByteKey("api.maxBufferedRequestBytes", "api-max-buffered-request-bytes",
                         "TMCD_API_MAX_BUFFERED_REQUEST_BYTES",
                         "Request bytes all connections together may buffer while requests arrive; the connection "
                         "that would pass it gets 503 (1048576..17179869184).",
                         size_t{1} << 20, size_t{16} << 30, &Config::api_max_buffered_request_bytes));
  keys.push_back(ByteKey("api.maxWatchOutputBytes", "api-max-watch-output-bytes", "TMCD_API_MAX_WATCH_OUTPUT_BYTES",
                         "Watch output all streams together may hold for slow readers; past it, streams whose "
                         "reader stopped for 1s are closed (1048576..17179869184).",
                         size_t{1} << 20, size_t{16} << 30, &Config::api_max_watch_output_bytes));
  keys.push_back(ByteKey("api.maxWatchLagBytes", "api-max-watch-lag-bytes", "TMCD_API_MAX_WATCH_LAG_BYTES",
                         "Event bytes one watch may fall behind before it is closed with 410 and re-watches; "
                         "events are shared, so this also bounds what all stalled watches keep (1048576..4294967296).",
                         size_t{1} << 20, size_t{4} << 30, &Config::api_max_watch_lag_bytes));
}

ConfigKey StringKey(std::string_view path, std::string_view flag, std::string_view env, std::string_view doc,
                    bool reloadable, std::string Config::*field) {
  return {path,
          flag,
          env,
          "string",
          doc,
          reloadable,
          [field](const Config& c) { return (c.*field).empty() ? std::string("\"\"") : c.*field; },
          [field](Config& c, const std::string& v) {
            c.*field = v;
            return Status::Ok();
          }};
}

ConfigKey ListKey(std::string_view path, std::string_view flag, std::string_view env, std::string_view doc,
                  std::vector<std::string> Config::*field) {
  return {path,
          flag,
          env,
          "list",
          doc,
          false,
          [field](const Config& c) { return (c.*field).empty() ? std::string("\"\"") : Join(c.*field, ","); },
          [field](Config& c, const std::string& v) {
            (c.*field).clear();
            for (const auto& item : Split(v, ',')) {
              if (!Trim(item).empty()) (c.*field).emplace_back(Trim(item));
            }
            return Status::Ok();
          }};
}

void AddSecurityKeys(std::vector<ConfigKey>& keys) {
  keys.push_back({"insecureHTTP", "insecure-http", "TMCD_INSECURE_HTTP", "bool",
                  "Serve plain HTTP on `listen` instead of TLS (loopback addresses only; a warning at every start).",
                  false, [](const Config& c) { return std::string(c.insecure_http ? "true" : "false"); },
                  [](Config& c, const std::string& v) { return ParseBool(v, c.insecure_http); }});
  keys.push_back(StringKey("unixSocket", "unix-socket", "TMCD_UNIX_SOCKET",
                           "Unix socket serving the same API to local administrators (mode 0660; peer uid/gid is the "
                           "identity). auto: $RUNTIME_DIRECTORY/tmcd.sock, else <dataDir>/tmcd.sock; empty: none.",
                           false, &Config::unix_socket));
  keys.push_back(StringKey("tls.certFile", "tls-cert-file", "TMCD_TLS_CERT_FILE",
                           "Serving certificate chain (PEM); empty: tmcd's own, issued by its CA in <dataDir>/pki. "
                           "Re-read on SIGHUP and when the file changes.",
                           true, &Config::tls_cert_file));
  keys.push_back(StringKey("tls.keyFile", "tls-key-file", "TMCD_TLS_KEY_FILE",
                           "Private key of tls.certFile (PEM; must not be readable by others).", true,
                           &Config::tls_key_file));
  keys.push_back(ListKey("tls.hosts", "tls-hosts", "TMCD_TLS_HOSTS",
                         "Host names and IP addresses in tmcd's own serving certificate (comma-separated).",
                         &Config::tls_hosts));
  keys.push_back(StringKey("auth.clientCAFile", "client-ca-file", "TMCD_AUTH_CLIENT_CA_FILE",
                           "CA bundle for client certificates (CN = user, O = groups); empty: tmcd's own CA, which "
                           "`tmcd kubeconfig` issues from.",
                           true, &Config::auth_client_ca_file));
  keys.push_back(StringKey("auth.tokenFile", "token-auth-file", "TMCD_AUTH_TOKEN_FILE",
                           "Bearer tokens, kube-apiserver CSV: token,user,uid,\"group1,group2\" (token may be "
                           "sha256:<hex>); re-read when it changes; empty: none.",
                           false, &Config::auth_token_file));
  keys.push_back(ListKey("auth.anonymousPaths", "anonymous-paths", "TMCD_AUTH_ANONYMOUS_PATHS",
                         "Paths an unauthenticated GET may read (comma-separated); every other request needs "
                         "credentials.",
                         &Config::auth_anonymous_paths));
  keys.push_back(StringKey("auth.adminGroup", "admin-group", "TMCD_AUTH_ADMIN_GROUP",
                           "Unix group whose members are administrators on the Unix socket (root and tmcd's own "
                           "user always are); empty: none.",
                           false, &Config::auth_admin_group));
  keys.push_back({"encryption.keyFile", "encryption-key-file", "TMCD_ENCRYPTION_KEY_FILE", "string",
                  "Keys that encrypt Secrets before they reach the store (YAML, mode 0600; the first encrypts, all "
                  "decrypt). auto: <dataDir>/encryption-keys.yaml, created on first start.",
                  false, [](const Config& c) { return c.encryption_key_file; },
                  [](Config& c, const std::string& v) {
                    if (v.empty()) return Invalid("must not be empty: Secrets are always encrypted (use auto)");
                    c.encryption_key_file = v;
                    return Status::Ok();
                  }});
  keys.push_back(StringKey("audit.path", "audit-log-path", "TMCD_AUDIT_PATH",
                           "Audit log, one audit.k8s.io/v1 Event per request. auto: $LOGS_DIRECTORY/audit.log under "
                           "systemd, else <dataDir>/audit.log; empty: none.",
                           false, &Config::audit_path));
  keys.push_back({"audit.level", "audit-level", "TMCD_AUDIT_LEVEL", "enum",
                  "None, Metadata (who, what, answer, timing) or Request (plus request bodies, never a Secret's).",
                  false, [](const Config& c) { return c.audit_level; },
                  [](Config& c, const std::string& v) {
                    return OneOf("audit level", v, {"None", "Metadata", "Request"}, c.audit_level);
                  }});
  keys.push_back({"audit.maxSizeMB", "audit-max-size-mb", "TMCD_AUDIT_MAX_SIZE_MB", "int",
                  "Size at which the audit log rotates (1..10000).", false,
                  [](const Config& c) { return std::to_string(c.audit_max_size_mb); },
                  [](Config& c, const std::string& v) { return ParseSize(v, 1, 10000, c.audit_max_size_mb); }});
  keys.push_back({"audit.maxBackups", "audit-max-backups", "TMCD_AUDIT_MAX_BACKUPS", "int",
                  "Rotated audit logs kept (0..100).", false,
                  [](const Config& c) { return std::to_string(c.audit_max_backups); },
                  [](Config& c, const std::string& v) { return ParseSize(v, 0, 100, c.audit_max_backups); }});
}

void AddStoreKeys(std::vector<ConfigKey>& keys) {
  keys.push_back({"store.fsync", "store-fsync", "TMCD_STORE_FSYNC", "bool",
                  "fsync the store's write-ahead log on every commit (false trades durability for speed).", false,
                  [](const Config& c) { return std::string(c.store_fsync ? "true" : "false"); },
                  [](Config& c, const std::string& v) { return ParseBool(v, c.store_fsync); }});
  keys.push_back({"store.keepRevisions", "store-keep-revisions", "TMCD_STORE_KEEP_REVISIONS", "int",
                  "Watch history kept, in events (events older than 1h go too); watching from a compacted "
                  "resourceVersion gets 410 Expired (1..100000000).",
                  false, [](const Config& c) { return std::to_string(c.store_keep_revisions); },
                  [](Config& c, const std::string& v) { return ParseSize(v, 1, 100000000, c.store_keep_revisions); }});
  keys.push_back(ByteKey("store.minFreeBytes", "store-min-free-bytes", "TMCD_STORE_MIN_FREE_BYTES",
                         "Writes are refused (503, not ready) while the data dir's disk has less free space than "
                         "this; they resume by themselves above it (0..1099511627776; 0 = no reserve).",
                         0, size_t{1} << 40, &Config::store_min_free_bytes));
  keys.push_back({"store.compactionInterval", "store-compaction-interval", "TMCD_STORE_COMPACTION_INTERVAL", "duration",
                  "How often the watch history is compacted (100ms..1h).", false,
                  [](const Config& c) { return FormatDuration(c.store_compaction_interval); },
                  [](Config& c, const std::string& v) {
                    auto d = ParseDuration(v);
                    if (!d.ok()) return d.status();
                    if (*d < std::chrono::milliseconds(100) || *d > std::chrono::hours(1)) {
                      return Invalid("out of range " + Quote(v) + ": want 100ms..1h");
                    }
                    c.store_compaction_interval = *d;
                    return Status::Ok();
                  }});
}

// "0.25", "1": the shortest text that reads back as the same ratio.
std::string FormatRatio(double r) {
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%.17g", r);
  for (int digits = 1; digits <= 17; ++digits) {
    std::array<char, 32> shorter{};
    std::snprintf(shorter.data(), shorter.size(), "%.*g", digits, r);
    if (std::strtod(shorter.data(), nullptr) == r) return shorter.data();
  }
  return buf.data();
}

void AddProcessKeys(std::vector<ConfigKey>& keys) {
  keys.push_back({"dataDir", "data-dir", "TMCD_DATA_DIR", "string",
                  "Directory for the RocksDB store and the instance lock; created if missing.", false,
                  [](const Config& c) { return c.data_dir; },
                  [](Config& c, const std::string& v) {
                    if (v.empty()) return Invalid("must not be empty");
                    c.data_dir = v;
                    return Status::Ok();
                  }});
  keys.push_back({"logging.level", "log-level", "TMCD_LOG_LEVEL", "enum",
                  "Log level: trace, debug, info, warn, error (reloaded on SIGHUP).", true,
                  [](const Config& c) { return c.log_level; },
                  [](Config& c, const std::string& v) {
                    return OneOf("log level", v, {"trace", "debug", "info", "warn", "error"}, c.log_level);
                  }});
  keys.push_back({"logging.format", "log-format", "TMCD_LOG_FORMAT", "enum",
                  "Log format: text (human) or json (one object per line, for journald/collectors).", false,
                  [](const Config& c) { return c.log_format; },
                  [](Config& c, const std::string& v) {
                    return OneOf("log format", v, {"text", "json"}, c.log_format);
                  }});
  keys.push_back({"tracing.endpoint", "tracing-endpoint", "TMCD_TRACING_ENDPOINT", "string",
                  "OTLP/HTTP collector URL spans are exported to (needs the TMCTracing gate; \"\" = none).", false,
                  [](const Config& c) { return c.tracing_endpoint.empty() ? "\"\"" : c.tracing_endpoint; },
                  [](Config& c, const std::string& v) {
                    if (!v.empty() && !StartsWith(v, "http://") && !StartsWith(v, "https://")) {
                      return Invalid("not an http:// or https:// URL: " + Quote(v));
                    }
                    c.tracing_endpoint = v;
                    return Status::Ok();
                  }});
  keys.push_back({"tracing.samplingRatio", "tracing-sampling-ratio", "TMCD_TRACING_SAMPLING_RATIO", "float",
                  "Share of traces started by tmcd that are recorded (0..1; a traceparent's sampled flag wins).", false,
                  [](const Config& c) { return FormatRatio(c.tracing_sampling_ratio); },
                  [](Config& c, const std::string& v) {
                    char* end = nullptr;
                    const double r = std::strtod(v.c_str(), &end);
                    if (v.empty() || end != v.c_str() + v.size() || !(r >= 0 && r <= 1)) {
                      return Invalid("not a ratio between 0 and 1: " + Quote(v));
                    }
                    c.tracing_sampling_ratio = r;
                    return Status::Ok();
                  }});
  keys.push_back({"events.ttl", "event-ttl", "TMCD_EVENT_TTL", "duration",
                  "How long an Event of the local store is kept after its last change (1m..24h), as kube-apiserver's "
                  "--event-ttl.",
                  false, [](const Config& c) { return FormatDuration(c.event_ttl); },
                  [](Config& c, const std::string& v) {
                    auto d = ParseDuration(v);
                    if (!d.ok()) return d.status();
                    if (*d < std::chrono::minutes(1) || *d > std::chrono::hours(24)) {
                      return Invalid("out of range " + Quote(v) + ": want 1m..24h");
                    }
                    c.event_ttl = *d;
                    return Status::Ok();
                  }});
  keys.push_back({"shutdownTimeout", "shutdown-timeout", "TMCD_SHUTDOWN_TIMEOUT", "duration",
                  "How long a graceful stop may take before tmcd exits anyway (1s..10m).", false,
                  [](const Config& c) { return FormatDuration(c.shutdown_timeout); },
                  [](Config& c, const std::string& v) {
                    auto d = ParseDuration(v);
                    if (!d.ok()) return d.status();
                    if (*d < std::chrono::seconds(1) || *d > std::chrono::minutes(10)) {
                      return Invalid("out of range " + Quote(v) + ": want 1s..10m");
                    }
                    c.shutdown_timeout = *d;
                    return Status::Ok();
                  }});
  keys.push_back({"featureGates", "feature-gates", "TMCD_FEATURE_GATES", "map[string]bool",
                  "Feature gates, NAME=true|false (see tmcd --help for the list).", false,
                  [](const Config& c) {
                    std::vector<std::string> parts;
                    for (const auto& [k, v] : c.gates.Effective()) parts.push_back(k + "=" + (v ? "true" : "false"));
                    return Join(parts, ",");
                  },
                  [](Config& c, const std::string& v) { return c.gates.Parse(v); }});
}

void AddUpstreamKeys(std::vector<ConfigKey>& keys) {
  keys.push_back({"upstream.kind", "upstream", "TMCD_UPSTREAM", "enum",
                  "Source of truth: embedded (the local API accepts writes) or kcp (tenant workspaces bound "
                  "to tmcd's APIExport; needs the TMCAPIExport gate).",
                  false, [](const Config& c) { return c.upstream_kind; },
                  [](Config& c, const std::string& v) {
                    return OneOf("upstream kind", v, {"embedded", "kcp"}, c.upstream_kind);
                  }});
  keys.push_back({"upstream.kubeconfig", "upstream-kubeconfig", "TMCD_UPSTREAM_KUBECONFIG", "string",
                  "kcp mode: kubeconfig with rights in the provider workspace (apiresourceschemas, apiexports, "
                  "apiexports/content, apiexportendpointslices).",
                  false, [](const Config& c) { return c.upstream_kubeconfig.empty() ? "\"\"" : c.upstream_kubeconfig; },
                  [](Config& c, const std::string& v) {
                    c.upstream_kubeconfig = v;
                    return Status::Ok();
                  }});
  keys.push_back({"upstream.context", "upstream-context", "TMCD_UPSTREAM_CONTEXT", "string",
                  "kcp mode: the kubeconfig context to use (empty: its current-context).", false,
                  [](const Config& c) { return c.upstream_context.empty() ? "\"\"" : c.upstream_context; },
                  [](Config& c, const std::string& v) {
                    c.upstream_context = v;
                    return Status::Ok();
                  }});
  keys.push_back({"upstream.workspace", "upstream-workspace", "TMCD_UPSTREAM_WORKSPACE", "string",
                  "kcp mode: path of the provider workspace that holds tmcd's APIExport.", false,
                  [](const Config& c) { return c.upstream_workspace; },
                  [](Config& c, const std::string& v) {
                    if (v.empty() || v.find_first_of("/ ") != std::string::npos) {
                      return Invalid("invalid workspace path " + Quote(v) + ": want e.g. root:tmc");
                    }
                    c.upstream_workspace = v;
                    return Status::Ok();
                  }});
  keys.push_back({"upstream.exportWorkloadTypes", "upstream-export-workload-types",
                  "TMCD_UPSTREAM_EXPORT_WORKLOAD_TYPES", "bool",
                  "kcp mode: also export schemas for deployments.apps and services, which kcp does not serve.", false,
                  [](const Config& c) { return std::string(c.upstream_export_workload_types ? "true" : "false"); },
                  [](Config& c, const std::string& v) { return ParseBool(v, c.upstream_export_workload_types); }});
  keys.push_back({"upstream.claimedResources", "upstream-claimed-resources", "TMCD_UPSTREAM_CLAIMED_RESOURCES", "list",
                  "kcp mode: resources of other APIExports (or kcp's own) to claim and sync, each "
                  "<resource>.<version>[.<group>][:<identityHash>], e.g. widgets.v1.example.com:<hash>.",
                  false,
                  [](const Config& c) {
                    std::vector<std::string> parts;
                    for (const auto& r : c.upstream_claimed_resources) parts.push_back(r.String());
                    return parts.empty() ? std::string("\"\"") : Join(parts, ",");
                  },
                  [](Config& c, const std::string& v) -> Status {
                    std::vector<ClaimedResource> out;
                    for (const auto& item : Split(v, ',')) {
                      if (Trim(item).empty()) continue;
                      TMCD_ASSIGN_OR_RETURN(ClaimedResource r, ParseClaimedResource(Trim(item)));
                      for (const auto& seen : out) {
                        if (seen.group == r.group && seen.resource == r.resource) {
                          return Invalid("resource " + Quote(r.String()) + " is claimed twice");
                        }
                      }
                      out.push_back(std::move(r));
                    }
                    c.upstream_claimed_resources = std::move(out);
                    return Status::Ok();
                  }});
}

Status ParseDurationIn(const std::string& v, std::chrono::milliseconds lo, std::chrono::milliseconds hi,
                       std::chrono::milliseconds& out) {
  auto d = ParseDuration(v);
  if (!d.ok()) return d.status();
  if (*d < lo || *d > hi) {
    return Invalid("out of range " + Quote(v) + ": want " + FormatDuration(lo) + ".." + FormatDuration(hi));
  }
  out = *d;
  return Status::Ok();
}

void AddClusterKeys(std::vector<ConfigKey>& keys) {
  using std::chrono::hours;
  using std::chrono::seconds;
  keys.push_back({"clusters.inventoryInterval", "clusters-inventory-interval", "TMCD_CLUSTERS_INVENTORY_INTERVAL",
                  "duration", "How often each cluster's Nodes, Pods and API discovery are read (10s..24h).", false,
                  [](const Config& c) { return FormatDuration(c.clusters_inventory_interval); },
                  [](Config& c, const std::string& v) {
                    return ParseDurationIn(v, seconds(10), hours(24), c.clusters_inventory_interval);
                  }});
  keys.push_back({"clusters.heartbeatInterval", "clusters-heartbeat-interval", "TMCD_CLUSTERS_HEARTBEAT_INTERVAL",
                  "duration",
                  "A healthy, unchanged cluster's status (lastHeartbeatTime) is written this often (10s..1h).", false,
                  [](const Config& c) { return FormatDuration(c.clusters_heartbeat_interval); },
                  [](Config& c, const std::string& v) {
                    return ParseDurationIn(v, seconds(10), hours(1), c.clusters_heartbeat_interval);
                  }});
  keys.push_back({"clusters.workers", "clusters-workers", "TMCD_CLUSTERS_WORKERS", "int",
                  "Clusters probed in parallel (1..64).", false,
                  [](const Config& c) { return std::to_string(c.clusters_workers); },
                  [](Config& c, const std::string& v) { return ParseSize(v, 1, 64, c.clusters_workers); }});
  keys.push_back({"sync.workers", "sync-workers", "TMCD_SYNC_WORKERS", "int", "Workloads synced in parallel (1..64).",
                  false, [](const Config& c) { return std::to_string(c.sync_workers); },
                  [](Config& c, const std::string& v) { return ParseSize(v, 1, 64, c.sync_workers); }});
  keys.push_back({"sync.qps", "sync-qps", "TMCD_SYNC_QPS", "int",
                  "Requests per second to each cluster (burst: twice that; 1..10000).", false,
                  [](const Config& c) { return std::to_string(c.sync_qps); },
                  [](Config& c, const std::string& v) { return ParseSize(v, 1, 10000, c.sync_qps); }});
  keys.push_back({"placement.failover.gracePeriod", "failover-grace-period", "TMCD_FAILOVER_GRACE_PERIOD", "duration",
                  "Failover: how long a left cluster's copies wait for the new ones to be Ready (0s..24h).", false,
                  [](const Config& c) { return FormatDuration(c.failover_grace_period); },
                  [](Config& c, const std::string& v) {
                    return ParseDurationIn(v, seconds(0), hours(24), c.failover_grace_period);
                  }});
  keys.push_back({"placement.failover.maxMoves", "failover-max-moves", "TMCD_FAILOVER_MAX_MOVES", "int",
                  "Failover: moves per workspace per interval (0 = no limit; 0..100000).", false,
                  [](const Config& c) { return std::to_string(c.failover_max_moves); },
                  [](Config& c, const std::string& v) { return ParseSize(v, 0, 100000, c.failover_max_moves); }});
  keys.push_back(
      {"placement.failover.interval", "failover-interval", "TMCD_FAILOVER_INTERVAL", "duration",
       "Failover: the sliding window maxMoves counts over (1s..24h).", false,
       [](const Config& c) { return FormatDuration(c.failover_interval); },
       [](Config& c, const std::string& v) { return ParseDurationIn(v, seconds(1), hours(24), c.failover_interval); }});
}

std::vector<ConfigKey> BuildKeys() {
  std::vector<ConfigKey> keys;
  AddApiKeys(keys);
  AddSecurityKeys(keys);
  AddStoreKeys(keys);
  AddUpstreamKeys(keys);
  AddClusterKeys(keys);
  AddProcessKeys(keys);
  return keys;
}

const ConfigKey* FindByPath(std::string_view path) {
  for (const auto& k : ConfigKeys()) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

std::string Where(const std::string& file, const YAML::Mark& m) {
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

// Walks a mapping; every scalar leaf is looked up by its dotted path.
Status WalkYaml(Config& cfg, const std::string& file, const YAML::Node& node, const std::string& prefix) {
  if (!node.IsMap()) {
    return Invalid(Where(file, node.Mark()) + ": " + (prefix.empty() ? "document" : prefix) + ": expected a mapping");
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    const YAML::Node& val = kv.second;
    if (path == "featureGates") {
      if (!val.IsMap()) return Invalid(Where(file, val.Mark()) + ": featureGates: expected a mapping of NAME: bool");
      for (const auto& g : val) {
        std::string gv = g.second.IsScalar() ? g.second.Scalar() : "";
        Status s = cfg.gates.Parse(g.first.as<std::string>() + "=" + gv);
        if (!s.ok()) return Invalid(Where(file, g.first.Mark()) + ": featureGates: " + s.message());
      }
      continue;
    }
    const ConfigKey* k = FindByPath(path);
    if (k == nullptr && val.IsMap()) {
      bool is_group = false;
      for (const auto& ck : ConfigKeys()) is_group = is_group || StartsWith(ck.path, path + ".");
      if (is_group) {
        TMCD_TRY(WalkYaml(cfg, file, val, path));
        continue;
      }
    }
    if (k == nullptr) return Invalid(Where(file, kv.first.Mark()) + ": unknown key " + Quote(path));
    if (k->type == "list" && val.IsSequence()) {  // a YAML list, or the same as one comma-separated string
      std::vector<std::string> items;
      for (const auto& item : val) {
        if (!item.IsScalar()) return Invalid(Where(file, item.Mark()) + ": " + path + ": expected a list of strings");
        items.push_back(item.Scalar());
      }
      Status s = k->assign(cfg, Join(items, ","));
      if (!s.ok()) return Invalid(Where(file, val.Mark()) + ": " + path + ": " + s.message());
      continue;
    }
    if (!val.IsScalar()) return Invalid(Where(file, val.Mark()) + ": " + path + ": expected a " + std::string(k->type));
    Status s = k->assign(cfg, val.Scalar());
    if (!s.ok()) return Invalid(Where(file, val.Mark()) + ": " + path + ": " + s.message());
  }
  return Status::Ok();
}

}  // namespace

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> kKeys = BuildKeys();
  return kKeys;
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view s) {
  const std::string orig{s};
  if (s.empty()) return Invalid("empty duration");
  if (s == "0") return std::chrono::milliseconds(0);
  double total_ms = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    if (i == 0) return Invalid("invalid duration " + Quote(orig) + ": want e.g. 500ms, 10s, 1m30s");
    double num = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + i, num);
    if (ec != std::errc() || p != s.data() + i) return Invalid("invalid duration " + Quote(orig));
    s.remove_prefix(i);
    size_t j = 0;
    while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j])) != 0) ++j;
    std::string_view unit = s.substr(0, j);
    s.remove_prefix(j);
    double mult = 0;
    if (unit == "ms")
      mult = 1;
    else if (unit == "s")
      mult = 1000;
    else if (unit == "m")
      mult = 60000;
    else if (unit == "h")
      mult = 3600000;
    else
      return Invalid("invalid duration " + Quote(orig) + ": unit must be ms, s, m or h");
    total_ms += num * mult;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

std::string FormatDuration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 3600000 == 0 && ms != 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0 && ms != 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

ConfigLoader::ConfigLoader(std::string config_file, std::map<std::string, std::string> flags, Env env)
    : config_file_(std::move(config_file)), flags_(std::move(flags)), env_(std::move(env)) {}

ConfigLoader::Env ConfigLoader::ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());  // NOLINT(concurrency-mt-unsafe): read at startup
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Status ConfigLoader::LoadFile(Config& cfg, const std::string& path) const {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Invalid(path + ": cannot read file");
  } catch (const YAML::ParserException& e) {
    return Invalid(Where(path, e.mark) + ": YAML syntax error: " + e.msg);
  }
  cfg.source_file = path;
  if (root.IsNull()) return Status::Ok();  // an empty file is a valid, empty config
  try {
    return WalkYaml(cfg, path, root, "");
  } catch (const YAML::Exception& e) {
    return Invalid(Where(path, e.mark) + ": " + e.msg);
  }
}

Result<Config> ConfigLoader::Load() const {
  Config cfg;
  std::string path = config_file_;
  if (path.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(kDefaultPath, ec)) path = std::string(kDefaultPath);
  }
  if (!path.empty()) TMCD_TRY(LoadFile(cfg, path));
  for (const auto& k : ConfigKeys()) {
    if (auto v = env_(k.env)) {
      Status s = k.assign(cfg, *v);
      if (!s.ok()) return Invalid("environment " + std::string(k.env) + ": " + s.message());
    }
  }
  for (const auto& k : ConfigKeys()) {
    auto it = flags_.find(std::string(k.flag));
    if (it == flags_.end()) continue;
    Status s = k.assign(cfg, it->second);
    if (!s.ok()) return Invalid("--" + std::string(k.flag) + ": " + s.message());
  }
  TMCD_TRY(ValidateConfig(cfg));
  return cfg;
}

namespace {

// A DNS-1123 label (resource, version) or, with dots allowed, subdomain (group).
bool IsDnsName(std::string_view s, bool dots) {
  if (s.empty() || s.size() > (dots ? 253U : 63U) || s.front() == '-' || s.back() == '-') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (dots && c == '.'))) return false;
  }
  return s.find("..") == std::string_view::npos && s.front() != '.' && s.back() != '.';
}

}  // namespace

std::string ClaimedResource::String() const {
  std::string out = resource + "." + version;
  if (!group.empty()) out += "." + group;
  if (!identity_hash.empty()) out += ":" + identity_hash;
  return out;
}

Result<ClaimedResource> ParseClaimedResource(std::string_view text) {
  const std::string want =
      ": want <resource>.<version>[.<group>][:<identityHash>], e.g. widgets.v1.example.com:" + std::string(8, '0') +
      "... (the hash is the APIExport's status.identityHash)";
  ClaimedResource r;
  std::string_view name = text;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    name = text.substr(0, colon);
    r.identity_hash = std::string(text.substr(colon + 1));
    const bool hex =
        r.identity_hash.size() == 64 && r.identity_hash.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex) return Invalid("invalid identity hash in " + Quote(text) + ": want 64 lowercase hex digits");
  }
  const auto dot = name.find('.');
  if (dot == std::string_view::npos) return Invalid("invalid claimed resource " + Quote(text) + want);
  r.resource = std::string(name.substr(0, dot));
  const auto rest = name.substr(dot + 1);
  const auto dot2 = rest.find('.');
  r.version = std::string(rest.substr(0, dot2));
  if (dot2 != std::string_view::npos) r.group = std::string(rest.substr(dot2 + 1));
  const bool version_ok = IsDnsName(r.version, false) && r.version.front() == 'v' && r.version.size() > 1 &&
                          r.version[1] >= '1' && r.version[1] <= '9';
  if (!IsDnsName(r.resource, false) || !version_ok || (dot2 != std::string_view::npos && !IsDnsName(r.group, true))) {
    return Invalid("invalid claimed resource " + Quote(text) + want);
  }
  if (r.group == "tmc.kcp.io") return Invalid("claimed resource " + Quote(text) + ": tmc.kcp.io is tmcd's own group");
  return r;
}

Status ValidateConfig(const Config& c) {
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    return Invalid("tls.certFile and tls.keyFile must be given together (or neither: tmcd issues its own)");
  }
  if (c.insecure_http) {
    const std::string host = c.listen.substr(0, c.listen.rfind(':'));
    if (host != "127.0.0.1" && host != "[::1]" && host != "localhost" && !StartsWith(host, "127.")) {
      return Invalid("insecureHTTP serves plain HTTP and is refused on the non-loopback address " + Quote(c.listen) +
                     ": use TLS (the default) for a network listener");
    }
  }
  if (!c.tracing_endpoint.empty() && !c.gates.Enabled(kGateTracing)) {
    return Invalid("tracing.endpoint is set, but the feature gate TMCTracing is off" +
                   std::string(c.gates.Enabled(kGateTMC) ? "" : " (TMC=false switches every TMC gate off)") +
                   ": enable it with --feature-gates=TMCTracing=true, or leave tracing.endpoint empty");
  }
  if (c.upstream_kind != "kcp" && !c.upstream_claimed_resources.empty()) {
    return Invalid("upstream.claimedResources is set, but upstream.kind is " + c.upstream_kind +
                   ": claims are made in kcp mode only (in embedded mode, install the CRD in tmcd instead)");
  }
  if (c.upstream_kind != "kcp") return Status::Ok();
  if (!c.gates.Enabled(kGateAPIExport)) {
    return Invalid("upstream.kind is kcp, but the feature gate TMCAPIExport is off" +
                   std::string(c.gates.Enabled(kGateTMC) ? "" : " (TMC=false switches every TMC gate off)") +
                   ": enable it with --feature-gates=TMCAPIExport=true, or use upstream.kind: embedded");
  }
  if (c.upstream_kubeconfig.empty()) {
    return Invalid(
        "upstream.kind is kcp, but upstream.kubeconfig is empty: name the kubeconfig of the provider "
        "workspace (--upstream-kubeconfig)");
  }
  return Status::Ok();
}

std::string DefaultConfigYaml() {
  Config defaults;
  std::string out = "# tmcd configuration, " + std::string(ConfigLoader::kDefaultPath) +
                    "\n# Precedence: this file < TMCD_* environment variables < command-line flags.\n"
                    "# Every key is shown with its default value.\n";
  std::string group;
  for (const auto& k : ConfigKeys()) {
    auto dot = k.path.find('.');
    std::string g = dot == std::string_view::npos ? "" : std::string(k.path.substr(0, dot));
    std::string leaf{dot == std::string_view::npos ? k.path : k.path.substr(dot + 1)};
    std::string indent = g.empty() ? "" : "  ";
    if (g != group && !g.empty()) out += "\n" + g + ":\n";
    if (g.empty()) out += "\n";
    group = g;
    out += indent + "# " + std::string(k.doc) + "\n" + indent + "# flag --" + std::string(k.flag) + ", env " +
           std::string(k.env) + "\n";
    if (k.path == "featureGates") {
      out += "featureGates:\n";
      for (const auto& gs : KnownGates()) {
        out += "  " + std::string(gs.name) + ": " + (gs.default_value ? "true" : "false") + "\n";
      }
      continue;
    }
    out += indent + leaf + ": " + k.show(defaults) + "\n";
  }
  return out;
}

}  // namespace tmcd
