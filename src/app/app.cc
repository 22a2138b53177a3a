#include "app/app.h"

#include <fcntl.h>
#include <malloc.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "api/server.h"
#include "app/backup.h"
#include "app/notify.h"
#include "app/security_setup.h"
#include "app/store_metrics.h"
#include "engine/clusters.h"
#include "engine/controller.h"
#include "engine/event_ttl.h"
#include "engine/events.h"
#include "engine/placement.h"
#include "kube/kubeconfig.h"
#include "observability/logging.h"
#include "observability/trace.h"
#include "registry/objects.h"
#include "security/audit.h"
#include "security/authn.h"
#include "security/rbac.h"
#include "store/store.h"
#include "sync/syncer.h"
#include "tmcd_build_config.h"
#include "upstream/kcp_upstream.h"
#include "upstream/upstream.h"

namespace tmcd::app {
namespace {

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

std::string Errno(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof(buf));  // GNU variant: returns the message pointer
}

}  // namespace

void BlockSignals() {
  sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

App::App(Config config, ConfigLoader loader) : config_(std::move(config)), loader_(std::move(loader)) {}

App::~App() {
  Stop();
}

Status App::Start() {
  TMCD_TRY(SecureDataDir(config_.data_dir));
  TMCD_TRY(CheckPrivateFile(config_.auth_token_file, "auth.tokenFile"));
  TMCD_TRY(CheckPrivateFile(config_.upstream_kubeconfig, "upstream.kubeconfig"));
  if (config_.encryption_key_file != "auto")
    TMCD_TRY(CheckPrivateFile(config_.encryption_key_file, "encryption.keyFile"));
  TMCD_TRY(LockDataDir());
  {  // checkpoints a `tmcd backup` was copying when it or tmcd stopped (app/backup.h)
    std::error_code ec;
    std::filesystem::remove_all(config_.data_dir + "/backups", ec);
  }
  fd_budget_ = PlanFdBudget(api::ServerOptions().max_connections);
  spdlog::info("{}", fd_budget_.Describe());
  store::StoreOptions so;
  so.max_open_files = fd_budget_.store_files;
  so.path = config_.data_dir + "/store";
  so.sync_writes = config_.store_fsync;
  so.keep_revisions = config_.store_keep_revisions;
  so.compaction_interval = config_.store_compaction_interval;
  so.watch_queue_bytes = config_.api_max_watch_lag_bytes;
  so.min_free_bytes = config_.store_min_free_bytes;
  auto sealer = PrepareSealer(config_);
  if (!sealer.ok()) return sealer.status();
  so.sealer = *sealer;
  registry_ = std::make_unique<prometheus::Registry>();
  auto& commit_latency = prometheus::BuildHistogram()
                             .Name("tmcd_store_commit_duration_seconds")
                             .Help("Store commit latency (writer lock wait + RocksDB batch write, fsync included).")
                             .Register(*registry_)
                             .Add({}, prometheus::Histogram::BucketBoundaries{0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                                              0.0025, 0.005, 0.01, 0.025, 0.1});
  so.commit_observer = [&commit_latency](std::chrono::nanoseconds d) {
    commit_latency.Observe(std::chrono::duration<double>(d).count());
  };
  auto st = store::Store::Open(so, clock_);
  if (!st.ok()) return st.status();
  store_ = std::move(st).value();
  store_writable_ = &prometheus::BuildGauge()
                         .Name("tmcd_store_writable")
                         .Help("1 while store writes succeed; 0 while they fail (see /readyz for why).")
                         .Register(*registry_)
                         .Add({});
  store_writable_->Set(1);
  if (const auto* sealed = &store_->SealStatsAtOpen(); sealed->plaintext > 0 || sealed->old_key > 0) {
    spdlog::warn(
        "encryption: {} Secrets are stored in plaintext and {} with an older key than {}: stop tmcd and "
        "run `tmcd encryption rewrite`",
        sealed->plaintext, sealed->old_key, (*sealer)->current_name());
  }
  TMCD_TRY(StartTracing());
  objects_ = std::make_unique<registry::ObjectService>(*store_, clock_);
  objects_->set_advanced_placement(config_.gates.Enabled(kGateAdvancedPlacement));
  TMCD_TRY(StartUpstream());
  StartControllers();
  TMCD_TRY(StartApi());
  std::string gates;
  for (const auto& [name, on] : config_.gates.Effective()) gates += name + "=" + (on ? "true " : "false ");
  spdlog::info("tmcd {} started: upstream={} dataDir={} config={} revision={} gates: {}", TMCD_VERSION,
               upstream_->Kind(), config_.data_dir, config_.source_file.empty() ? "(none)" : config_.source_file,
               store_->CurrentRevision(), gates);
  return Status::Ok();
}

Status App::StartTracing() {
  if (!config_.gates.Enabled(kGateTracing)) return Status::Ok();
  observability::TracingOptions o;
  o.endpoint = config_.tracing_endpoint;
  o.sampling_ratio = config_.tracing_sampling_ratio;
  o.service_version = TMCD_VERSION;
  o.service_instance = store_->InstanceId();
  TMCD_TRY(observability::StartTracing(true, o));
  spdlog::info("tracing: {} of new traces sampled, {}", o.sampling_ratio,
               o.endpoint.empty() ? "spans not exported (no tracing.endpoint)" : "spans exported to " + o.endpoint);
  return Status::Ok();
}

Status App::LockDataDir() {
  std::error_code ec;
  std::filesystem::create_directories(config_.data_dir, ec);
  if (ec) return Internal("cannot create data directory " + config_.data_dir + ": " + ec.message());
  const std::string lock_path = config_.data_dir + "/tmcd.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return Internal("cannot open " + lock_path + ": " + Errno(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) {
      return {Reason::kConflict, "data directory " + config_.data_dir + " is in use by another tmcd process"};
    }
    return Internal("cannot lock " + lock_path + ": " + Errno(err));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 || ::write(lock_fd_, pid.data(), pid.size()) < 0) {
    spdlog::warn("cannot write pid to {}: {}", lock_path, Errno(errno));
  }
  return Status::Ok();
}

Status App::StartUpstream() {
  if (config_.upstream_kind != "kcp") {
    upstream_ = std::make_unique<upstream::EmbeddedUpstream>(*store_, *objects_);
    return upstream_->Start();
  }
  // ValidateConfig has checked the gate and that a kubeconfig is named.
  auto rest = kube::LoadKubeconfig(config_.upstream_kubeconfig, config_.upstream_context);
  if (!rest.ok()) return rest.status().Annotate("upstream.kubeconfig");
  upstream::KcpOptions ko;
  ko.workspace = config_.upstream_workspace;
  ko.export_workload_types = config_.upstream_export_workload_types;
  ko.claimed = config_.upstream_claimed_resources;
  const std::string server = rest->server;
  upstream_ = std::make_unique<upstream::KcpUpstream>(*store_, std::move(rest).value(), ko);
  TMCD_TRY(upstream_->Start());
  spdlog::info("kcp mode: provider workspace {} at {}; the local API serves the cache read-only",
               config_.upstream_workspace, server);
  return Status::Ok();
}

void App::StartControllers() {
  if (!config_.gates.Enabled(kGateTMC)) {
    spdlog::info("feature gate TMC is off: no controllers run; tmcd serves its API, health and metrics only");
    return;
  }
  recorder_ = std::make_unique<engine::EventRecorder>(*upstream_, clock_, *registry_);
  manager_ = std::make_unique<engine::Manager>(*registry_, [this] { return upstream_->NotReadyReason(); });
  engine::ClusterControllerOptions co;
  co.inventory_interval = std::chrono::duration_cast<std::chrono::seconds>(config_.clusters_inventory_interval);
  co.heartbeat_interval = std::chrono::duration_cast<std::chrono::seconds>(config_.clusters_heartbeat_interval);
  co.workers = static_cast<int>(config_.clusters_workers);
  clusters_ = std::make_unique<engine::ClusterController>(*upstream_, *store_, clock_, *registry_, co);
  clusters_->Register(*manager_);
  sync::SyncerOptions sopt;
  sopt.aggregate_status = config_.gates.Enabled(kGateStatusAggregation);
  sopt.advanced_placement = config_.gates.Enabled(kGateAdvancedPlacement);
  sopt.workers = static_cast<int>(config_.sync_workers);
  sopt.qps = static_cast<double>(config_.sync_qps);
  std::vector<apis::v1alpha1::GroupResource> kinds;
  for (const auto& k : sopt.kinds) kinds.push_back({k.group, k.resource});
  const engine::FailoverOptions failover{config_.failover_grace_period, config_.failover_max_moves,
                                         config_.failover_interval};
  placement_ = std::make_unique<engine::PlacementController>(
      *upstream_, *store_, clock_, *registry_, kinds, config_.gates.Enabled(kGateAdvancedPlacement), 2, failover);
  syncer_ = std::make_unique<sync::Syncer>(
      *upstream_, *store_, clock_, *registry_,
      [this](const std::string& ws, const std::string& cluster) -> std::optional<sync::Connection> {
        auto c = clusters_->ConnectionFor(ws, cluster);
        if (!c) return std::nullopt;
        return sync::Connection{c->rest, c->fingerprint};
      },
      sopt);
  // Capacity: a copy stays reserved for an inventory read after its apply, plus time for its Pods to appear.
  placement_->SetCapacity(
      [this](const std::string& ws, const apis::v1alpha1::GroupResource& gr,
             const nlohmann::json& obj) -> std::optional<engine::WorkloadDemand> {
        const auto rules = syncer_->RulesFor(ws, gr.group, gr.resource);
        return rules == nullptr ? std::nullopt : sync::PodDemand(*rules, obj);
      },
      config_.clusters_inventory_interval + std::chrono::seconds(15));
  clusters_->SetRecorder(recorder_.get());
  placement_->SetRecorder(recorder_.get());
  syncer_->SetRecorder(recorder_.get());
  placement_->Register(*manager_);
  syncer_->Register(*manager_);
  // Until the first probe of every registered cluster, each reads as not Ready; the sync workers wait
  // for it (a probe hangs no longer than its timeout), else every workload is reconciled again as each
  // of its clusters turns Ready (docs/sync.md, "After a restart").
  syncer_->HoldUntil([this] { return manager_->SourcesListed() && clusters_->FirstProbesDone(); },
                     std::chrono::seconds(15));
  event_expiry_ = std::make_unique<engine::EventExpiry>(*store_, clock_, config_.event_ttl);
  event_expiry_->Register(*manager_);
  recorder_->Start();
  clusters_->SetCopyCounter(
      [this](const std::string& ws, const std::string& cluster) { return syncer_->CopiesOn(ws, cluster); });
  manager_->Start();
}

Status App::StartSecurity(api::ServerOptions& so, std::string& transport) {
  transport = "plain HTTP";
  if (config_.insecure_http) {
    spdlog::warn("insecureHTTP: the API on {} is served without TLS; tokens cross the wire in clear text",
                 config_.listen);
  } else {
    auto tls = PrepareTls(config_);
    if (!tls.ok()) return tls.status();
    auto ctx = net::TlsContext::Load(tls->files);
    if (!ctx.ok()) return ctx.status();
    so.tls = *ctx;
    tls_reloader_ = std::make_unique<TlsReloader>(tls->files);
    transport = "TLS (" + (*ctx)->Describe() + ")";
  }
  so.unix_path = UnixSocketPath(config_);
  security::AuthnOptions ao;
  ao.token_file = config_.auth_token_file;
  ao.admin_group = config_.auth_admin_group;
  ao.self_uid = ::geteuid();
  authn_ = std::make_unique<security::Authenticator>(ao);
  TMCD_TRY(authn_->Init());
  authz_ = std::make_unique<security::Authorizer>(*store_);
  so.authn = authn_.get();
  so.authz = authz_.get();
  if (const std::string path = AuditLogPath(config_); !path.empty()) {
    security::AuditOptions ao2;
    ao2.path = path;
    ao2.level = config_.audit_level;
    ao2.max_bytes = config_.audit_max_size_mb * 1024 * 1024;
    ao2.max_backups = config_.audit_max_backups;
    auto audit = security::AuditLog::Open(ao2);
    if (!audit.ok()) return audit.status().Annotate("audit.path");
    audit_ = std::move(audit).value();
    so.audit = audit_.get();
  }
  return Status::Ok();
}

Status App::StartApi() {
  // Every watch stream holds a socket; the default soft limit (1,024) would cap them long before
  // api.maxWatches. The hard limit is what the administrator (or systemd's LimitNOFILE) allows.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &files) != 0) spdlog::warn("cannot raise the open-file limit: {}", Errno(errno));
  }
  api::ServerOptions so;
  const auto colon = config_.listen.rfind(':');
  so.host = config_.listen.substr(0, colon);
  if (so.host.size() >= 2 && so.host.front() == '[') so.host = so.host.substr(1, so.host.size() - 2);
  so.port = std::stoi(config_.listen.substr(colon + 1));
  so.max_watches = config_.api_max_watches;
  so.max_body_bytes = config_.api_max_request_bytes;
  so.max_buffered_request_bytes = config_.api_max_buffered_request_bytes;
  so.max_connections = fd_budget_.connections;
  so.max_stream_bytes = config_.api_max_watch_output_bytes;
  std::string transport;
  TMCD_TRY(StartSecurity(so, transport));
  so.anonymous_paths = config_.auth_anonymous_paths;
  if (placement_) {
    so.explain_placement = [this](const std::string& ws, const std::string& ns, const std::string& name) {
      return placement_->Explain(ws, ns, name);
    };
    so.explain_candidate = [this](const std::string& ws, const std::string& ns, const nlohmann::json& obj) {
      return placement_->ExplainCandidate(ws, ns, obj);
    };
  }
  so.backup = [this] { return ServeBackup(*store_, config_.data_dir); };
  if (!upstream_->AcceptsLocalWrites()) {
    so.read_only_reason =
        "tmcd runs in kcp mode and serves a read-only cache of the workspaces bound to its "
        "APIExport: write to the workspace in kcp instead";
  }
  // In-flight requests get half of shutdownTimeout; the rest is for closing the store.
  so.shutdown_grace = std::chrono::duration_cast<std::chrono::seconds>(config_.shutdown_timeout / 2);
  nlohmann::json version = {{"major", "0"},
                            {"minor", "1"},
                            {"gitVersion", "v" + std::string(TMCD_VERSION)},
                            {"platform", "linux"},
                            {"featureGates", config_.gates.Effective()}};
  server_ = std::make_unique<api::Server>(
      so, *objects_, *store_, *registry_, [this] { return Readiness(); }, version);
  observability::AddProcessMetrics(server_->collector());
  AddStoreMetrics(server_->collector(), *store_);
  observability::AddTracingMetrics(server_->collector());
  // The queues as they are at the scrape, not at the manager's last one-second refresh (the server
  // stops before the manager is destroyed).
  if (manager_) server_->collector().OnCollect([m = manager_.get()] { m->UpdateMetrics(); });
  auto port = server_->Start();
  if (!port.ok()) return port.status();
  spdlog::info("local API listening on {}:{} over {}{}", so.host, *port, transport,
               so.unix_path.empty() ? "" : " and on the Unix socket " + so.unix_path);
  if (!config_.port_file.empty()) {
    // Written then renamed, so a reader never sees a partial file.
    const std::string tmp = config_.port_file + ".tmp";
    std::ofstream(tmp) << *port << "\n";
    if (std::rename(tmp.c_str(), config_.port_file.c_str()) != 0) {
      return Internal("cannot write port file " + config_.port_file + ": " + Errno(errno));
    }
  }
  return Status::Ok();
}

std::string App::Readiness() const {
  if (!store_) return "store not open";
  if (std::string e = store_->WriteError(); !e.empty()) return "the store cannot write: " + e;
  if (!upstream_) return "upstream not started";
  std::string why = upstream_->NotReadyReason();
  if (!why.empty()) return why;
  if (manager_ && !manager_->Running()) return "controllers starting";
  return "";
}

void App::UpdateUpstreamMetrics() {
  auto* kcp = dynamic_cast<upstream::KcpUpstream*>(upstream_.get());
  if (kcp == nullptr || !registry_) return;
  const auto st = kcp->GetStats();
  auto& g = prometheus::BuildGauge()
                .Name("tmcd_upstream_kcp")
                .Help(
                    "kcp upstream: endpoints followed, bound logical clusters, full lists made by its informers "
                    "since start, informers resumed from a saved resourceVersion, ready (1/0).")
                .Register(*registry_);
  g.Add({{"value", "endpoints"}}).Set(static_cast<double>(st.endpoints));
  g.Add({{"value", "bound_clusters"}}).Set(static_cast<double>(st.bound_clusters));
  g.Add({{"value", "lists"}}).Set(static_cast<double>(st.lists));
  g.Add({{"value", "resumed_informers"}}).Set(static_cast<double>(st.resumed));
  g.Add({{"value", "ready"}}).Set(kcp->NotReadyReason().empty() ? 1 : 0);
}

int App::Run() {
  int exit_code = 0;
  const sigset_t set = HandledSignals();
  const auto watchdog = WatchdogInterval();
  NotifyReady("serving");
  spdlog::info("tmcd ready");
  while (true) {
    auto wait = watchdog.value_or(std::chrono::milliseconds(1000));
    timespec ts{static_cast<time_t>(wait.count() / 1000), static_cast<long>((wait.count() % 1000) * 1000000)};
    int sig = sigtimedwait(&set, nullptr, &ts);
    UpdateUpstreamMetrics();
    ReloadTls(false);
    TrimHeap();
    if (!CheckStore()) {
      exit_code = 1;  // systemd restarts the unit (Restart=on-failure); the log says why
      break;
    }
    if (sig < 0) {
      if (watchdog) NotifyWatchdog();
      continue;  // EAGAIN (timeout) or EINTR
    }
    if (sig == SIGHUP) {
      Reload();
      continue;
    }
    spdlog::info("received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  NotifyStopping();
  // A stop that hangs must not keep a unit in "deactivating" forever: give up after shutdownTimeout.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread guard([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, config_.shutdown_timeout, [&] { return done; })) {
      spdlog::critical("graceful stop exceeded {} ms while {}, exiting", config_.shutdown_timeout.count(),
                       stop_stage_.load());
      std::_Exit(1);
    }
  });
  Stop();
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_one();
  guard.join();
  spdlog::info("tmcd stopped");
  return exit_code;
}

bool App::CheckStore() {
  if (!store_) return true;
  const std::string before = store_->WriteError();
  store_writable_->Set(before.empty() ? 1 : 0);
  if (before.empty()) {
    if (store_was_failing_) spdlog::info("store: writable again");
    store_was_failing_ = false;
    return true;
  }
  if (!store_was_failing_) spdlog::error("store: writes fail ({}); not ready until they succeed", before);
  store_was_failing_ = true;
  const Status s = store_->Recover();
  if (s.ok()) {
    spdlog::info("store: writable again");
    store_was_failing_ = false;
    store_writable_->Set(1);
  } else if (s.reason() == Reason::kInternalError) {
    spdlog::critical("store: {}; exiting so that the service manager restarts tmcd", s.message());
    return false;
  }
  return true;
}

void App::TrimHeap() {
  // glibc keeps what is freed in its arenas for reuse; after a burst (a wave of syncs, the lists of a
  // restart) that was as large as the live heap itself (docs/observability.md, "Where tmcd's memory
  // goes"). mallinfo2 and malloc_trim walk every arena, briefly holding each one's lock: seldom, then.
  // Trimmed memory still counts as free (its pages go back, its chunks stay), so while more than 64 MiB
  // is free this trims every 10 s; at 100 clusters x 10,000 workloads that cost no CPU the benchmark
  // could tell from its run-to-run spread (docs/performance.md, "Scale").
  const auto now = std::chrono::steady_clock::now();
  if (now - heap_checked_ < std::chrono::seconds(10)) return;
  heap_checked_ = now;
  constexpr size_t kKeep = size_t{64} << 20;
  if (::mallinfo2().fordblks > kKeep) ::malloc_trim(0);
}

void App::ReloadTls(bool force) {
  if (!tls_reloader_ || !server_) return;
  if (auto ctx = tls_reloader_->Check(force)) server_->SetTls(std::move(ctx));
}

void App::Reload() {
  NotifyReloading();
  ReloadTls(true);
  auto fresh = loader_.Load();
  if (!fresh.ok()) {
    spdlog::error("reload failed, keeping the current settings: {}", fresh.status().message());
  } else if (fresh->log_level != config_.log_level) {
    Status s = observability::SetLogLevel(fresh->log_level);
    if (s.ok()) {
      spdlog::info("reload: log level {} -> {}", config_.log_level, fresh->log_level);
      config_.log_level = fresh->log_level;
    }
  } else {
    spdlog::info("reload: nothing to change");
  }
  NotifyReady("serving");
}

void App::Stop() {
  // Reverse construction order: the API first (ends watches, finishes in-flight requests), then
  // the store (closed cleanly), then the lock.
  stop_stage_ = "stopping the API server";
  if (server_) server_->Stop();
  server_.reset();
  authz_.reset();
  authn_.reset();
  stop_stage_ = "writing the audit log";
  audit_.reset();  // writes what is queued
  stop_stage_ = "stopping the controllers";
  if (manager_) manager_->Stop();
  stop_stage_ = "stopping the syncer";
  syncer_.reset();  // its downstream informers feed the sync queue: stopped before the queue goes
  stop_stage_ = "stopping the placement and cluster controllers";
  placement_.reset();
  manager_.reset();
  event_expiry_.reset();
  clusters_.reset();
  stop_stage_ = "stopping the event recorder";
  if (recorder_) recorder_->Stop();  // drops what is left: the upstream it writes to stops next
  recorder_.reset();
  stop_stage_ = "stopping the upstream";
  if (upstream_) upstream_->Stop();
  upstream_.reset();
  objects_.reset();
  stop_stage_ = "flushing the store";
  if (store_) {
    // Nothing writes any more: a flushed store opens without replaying its write-ahead log.
    if (Status s = store_->Flush(); !s.ok()) spdlog::warn("stop: {} (the next start replays the log)", s.message());
  }
  stop_stage_ = "closing the store";
  store_.reset();
  stop_stage_ = "exporting the last spans";
  observability::StopTracing();
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

}  // namespace tmcd::app
