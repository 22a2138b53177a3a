// Server: dispatch of resource requests to ObjectService, and watch streams.
#include <charconv>
#include <limits>
#include <optional>

#include "api/protobuf.h"
#include "api/reply.h"
#include "api/server.h"
#include "api/status_body.h"
#include "api/table.h"
#include "common/strings.h"

namespace tmcd::api {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kApplyPatchType = "application/apply-patch+yaml";

void ReplyResult(net::HttpResponse& res, int ok_code, const Result<Json>& r, const RequestPath& p,
                 const ResourceInfo& info) {
  if (r.ok()) {
    Reply(res, ok_code, *r);
  } else {
    Reply(res, HttpCode(r.status().reason()), StatusBody(r.status(), {p.name, info.group, info.resource}));
  }
  // As kube-apiserver: RFC 7234 warn-code 299, agent "-", one quoted text per warning.
  std::string warning;
  constexpr size_t kMaxWarnings = 20;  // a hostile patch must not grow the header without bound
  for (size_t i = 0; i < p.warnings.size(); ++i) {
    const std::string w =
        i < kMaxWarnings ? p.warnings[i] : std::to_string(p.warnings.size() - kMaxWarnings) + " more warnings";
    std::string text;
    for (char c : w) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        text += '\\';
        text += c;
      } else if (u < 0x20 || u >= 0x7f) {  // never a raw control byte in a header (no injection)
        static constexpr char kHex[] = "0123456789abcdef";
        text += "\\x";
        text += kHex[u >> 4];
        text += kHex[u & 15];
      } else {
        text += c;
      }
    }
    warning += (warning.empty() ? "" : ", ") + std::string("299 - \"") + text + "\"";
    if (i == kMaxWarnings) break;
  }
  if (!warning.empty()) res.SetHeader("Warning", warning);
}

// A boolean query parameter as Go's strconv.ParseBool reads it; absent is false. Anything else is
// the client's error: "watch=yes" must not silently become a list.
Result<bool> BoolParam(const net::HttpRequest& req, std::string_view name) {
  if (!req.HasParam(name)) return false;
  const std::string v = req.Param(name);
  for (const char* t : {"1", "t", "T", "true", "TRUE", "True"}) {
    if (v == t) return true;
  }
  for (const char* f : {"", "0", "f", "F", "false", "FALSE", "False"}) {
    if (v == f) return false;
  }
  return BadRequest(std::string(name) + " must be true or false, got " + Quote(v));
}

// An integer query parameter in [0, max]; nullopt when absent. "abc", "-1", "1e3" and overflow are 400.
Result<std::optional<int64_t>> CountParam(const net::HttpRequest& req, std::string_view name, int64_t max) {
  if (!req.HasParam(name)) return std::optional<int64_t>();
  const std::string v = req.Param(name);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 0 || n > max) {
    return BadRequest(std::string(name) + " must be an integer from 0 to " + std::to_string(max) + ", got " + Quote(v));
  }
  return std::optional<int64_t>(n);
}

// Query parameters whose meaning tmcd does not implement yet are refused, never ignored: a
// "dryRun=All" create that stored the object would be worse than an error.
// dryRun: absent or "All" (kube-apiserver's only value); anything else is refused, never ignored.
Result<bool> DryRunParam(const net::HttpRequest& req) {
  if (!req.HasParam("dryRun")) return false;
  const std::string v = req.Param("dryRun");
  if (v == "All") return true;
  return BadRequest("invalid dryRun value " + Quote(v) + ": the only supported value is \"All\"");
}

// fieldManager (at most 128 printable bytes, as kube-apiserver checks) or the User-Agent's product;
// force only with server-side apply.
Status ManagerParams(const net::HttpRequest& req, RequestPath& p) {
  p.field_manager_given = req.HasParam("fieldManager");
  p.field_manager =
      p.field_manager_given ? req.Param("fieldManager") : registry::ManagerFromUserAgent(req.Header("User-Agent"));
  if (p.field_manager.size() > 128) return Invalid("fieldManager: Too long: may not be more than 128 bytes");
  for (char c : p.field_manager) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Invalid("fieldManager: Invalid value: must contain only printable characters");
    }
  }
  if (p.field_manager_given && p.field_manager.empty()) return Invalid("fieldManager: Required value");
  if (!p.field_manager_given && !IsUtf8(p.field_manager)) p.field_manager = "unknown";
  if (req.HasParam("fieldValidation")) {
    p.field_validation = req.Param("fieldValidation");
    p.field_validation_given = true;
    if (p.field_validation != "Strict" && p.field_validation != "Warn" && p.field_validation != "Ignore") {
      return BadRequest("fieldValidation: Unsupported value: " + Quote(p.field_validation) +
                        ": supported values: \"Ignore\", \"Strict\", \"Warn\"");
    }
  }
  TMCD_ASSIGN_OR_RETURN(p.force, BoolParam(req, "force"));
  const bool apply = req.method == "PATCH" && StartsWith(req.Header("Content-Type"), kApplyPatchType);
  if (p.force && !apply) return BadRequest("force: Forbidden: may not be specified for non-apply patch");
  return Status::Ok();
}

Result<ListOptions> ParseListOptions(const net::HttpRequest& req) {
  ListOptions o;
  o.label_selector = req.Param("labelSelector");
  o.field_selector = req.Param("fieldSelector");
  o.resource_version = req.Param("resourceVersion");
  o.continue_token = req.Param("continue");
  TMCD_ASSIGN_OR_RETURN(o.send_initial_events, BoolParam(req, "sendInitialEvents"));
  TMCD_ASSIGN_OR_RETURN(const bool watch, BoolParam(req, "watch"));
  TMCD_ASSIGN_OR_RETURN(const bool bookmarks, BoolParam(req, "allowWatchBookmarks"));
  if (o.send_initial_events) {
    // As the API server validates a streaming list request.
    if (!watch) return Status(Reason::kInvalid, "sendInitialEvents is forbidden for list");
    if (req.Param("resourceVersionMatch") != "NotOlderThan") {
      return Status(Reason::kInvalid, "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
    }
    if (!bookmarks) return Status(Reason::kInvalid, "sendInitialEvents requires setting allowWatchBookmarks to true");
  }
  TMCD_ASSIGN_OR_RETURN(auto limit, CountParam(req, "limit", std::numeric_limits<int64_t>::max()));
  if (limit) o.limit = static_cast<size_t>(*limit);
  return o;
}

Result<Json> ParseBody(const net::HttpRequest& req) {
  if (req.body.empty() || req.method == "PATCH") return Json(nullptr);  // patches parse their own bodies
  const std::string type = req.Header("Content-Type");
  if (StartsWith(type, kProtobufContentType)) return DecodeKubeProtobuf(req.body);  // typed create and update
  if (!type.empty() && !StartsWith(type, "application/json")) {
    return Status(Reason::kUnsupportedMediaType, "the body of the request was in an unknown format (" + type +
                                                     ") - accepted media types include: application/json");
  }
  if (JsonTooDeep(req.body)) {
    return BadRequest("the request body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  Json body = Json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    return BadRequest("the request body is not valid JSON (tmcd accepts application/json; YAML clients convert first)");
  }
  return body;
}

}  // namespace

// One watch stream, pulled by the HTTP server's I/O thread whenever the watcher has events or a
// timer (bookmark, deadline) is due. Never blocks: the store's bounded watcher queue absorbs bursts.
class Server::WatchStream final : public net::StreamSource {
 public:
  // `info` is kept alive for the stream: a CRD's resource may leave the catalog while it is watched.
  WatchStream(Server& server, WatchStart w, registry::ResourcePtr info)
      : server_(server), w_(std::move(w)), keep_(std::move(info)), info_(*keep_) {}
  void Attach(std::function<void()> wake) override { w_.watcher->SetNotify(std::move(wake)); }
  bool Pull(std::string& out, size_t budget, TimePoint now) override;
  uint64_t from() const { return w_.from; }
  TimePoint NextTimer() const override { return bookmarks_ ? std::min(deadline_, next_bookmark_) : deadline_; }
  void Close() override {
    w_.watcher->SetNotify(nullptr);
    w_.watcher->Close(Status(Reason::kGone, "watch ended"));
    server_.open_watches_.fetch_sub(1);
  }

  TimePoint deadline_;
  TimePoint next_bookmark_;
  bool bookmarks_ = false;
  bool table_ = false;
  uint64_t last_revision_ = 0;

 private:
  void Append(std::string& out, Json ev) const;

  Server& server_;
  WatchStart w_;
  registry::ResourcePtr keep_;
  const ResourceInfo& info_;
  size_t next_initial_ = 0;
};

void Server::HandleResource(const RequestPath& path, const net::HttpRequest& req, const security::UserInfo& user,
                            net::HttpResponse& res, std::string& verb, std::string& resource_label) {
  RequestPath p = path;
  const std::string& method = req.method;
  const registry::ResourcePtr found =
      objects_.catalog().Find(p.workspace, p.core ? "" : p.group, p.version, p.resource);
  const ResourceInfo* r = found.get();
  auto fail = [&](const Status& s) { Reply(res, HttpCode(s.reason()), StatusBody(s, {p.name, p.group, p.resource})); };
  const bool explain = p.subresource == "explain" && r != nullptr && r->resource == "workloadplacements" &&
                       options_.explain_placement != nullptr;
  if (r == nullptr || (!r->namespaced && !p.namespace_.empty()) ||
      (!p.subresource.empty() && !(p.subresource == "status" && r->has_status) &&
       !(p.subresource == "scale" && r->scale) && !explain)) {
    return fail(NotFound("the server could not find the requested resource"));
  }
  if (explain) {
    verb = "explain";
    resource_label = r->QualifiedResource();
    return HandleExplain(p, *r, req, res);
  }
  // Metric labels stay bounded: custom resources share one.
  resource_label = r->crd.empty() ? r->QualifiedResource() : "customresources";
  const bool status_only = p.subresource == "status";
  if (r->create_only) {
    verb = "create";
    auto body = method == "POST" && p.name.empty()
                    ? ParseBody(req)
                    : Result<Json>(Status(Reason::kMethodNotAllowed, r->resource + " only support create (POST)"));
    if (!body.ok()) return fail(body.status());
    return Review(p, *r, user, *body, res);
  }
  auto dry_run = DryRunParam(req);
  if (!dry_run.ok()) return fail(dry_run.status());
  p.dry_run = *dry_run;
  if (Status s = ManagerParams(req, p); !s.ok()) return fail(s);
  if (r->group == security::kRbacGroup && method != "GET") AdmitRbacWrite(p, *r, user);
  if (!options_.read_only_reason.empty() && method != "GET" && !r->local_only) {
    return fail(Status(Reason::kMethodNotAllowed, options_.read_only_reason));
  }
  if (r->read_only && method != "GET") {
    return fail(Status(Reason::kMethodNotAllowed, r->resource + " are maintained by tmcd and are read-only"));
  }
  if (p.subresource == "scale") return HandleScale(p, *r, req, res, verb);
  if (method == "GET") return HandleRead(p, *r, req, res, verb);
  auto body = ParseBody(req);
  if (!body.ok()) return fail(body.status());
  if (method == "POST") {
    verb = "create";
    if (!p.name.empty() || status_only) return fail(Status(Reason::kMethodNotAllowed, "POST is for collections"));
    if (body->is_null()) return fail(BadRequest("a create needs a request body"));
    return ReplyResult(res, 201, objects_.Create(p, *r, std::move(*body)), p, *r);
  }
  if (p.name.empty()) return fail(Status(Reason::kMethodNotAllowed, method + " on a collection is not supported"));
  if (method == "PUT") {
    verb = "update";
    if (body->is_null()) return fail(BadRequest("an update needs a request body"));
    return ReplyResult(res, 200, objects_.Update(p, *r, std::move(*body), status_only), p, *r);
  }
  if (method == "PATCH") {
    verb = "patch";
    if (StartsWith(req.Header("Content-Type"), kApplyPatchType)) {
      auto out = objects_.Apply(p, *r, req.body, status_only);
      return ReplyResult(res, p.created ? 201 : 200, out, p, *r);
    }
    return ReplyResult(res, 200, objects_.Patch(p, *r, req.Header("Content-Type"), req.body, status_only), p, *r);
  }
  verb = "delete";
  if (status_only) return fail(Status(Reason::kMethodNotAllowed, "the status subresource cannot be deleted"));
  return ReplyResult(res, 200, objects_.Delete(p, *r, *body), p, *r);
}

void Server::HandleScale(const RequestPath& p, const ResourceInfo& r, const net::HttpRequest& req,
                         net::HttpResponse& res, std::string& verb) {
  if (req.method == "GET") {
    verb = "get";
    return ReplyResult(res, 200, objects_.GetScale(p, r), p, r);
  }
  if (req.method == "PATCH") {
    verb = "patch";
    return ReplyResult(res, 200, objects_.PatchScale(p, r, req.Header("Content-Type"), req.body), p, r);
  }
  auto body = req.method == "PUT" ? ParseBody(req)
                                  : Result<Json>(Status(Reason::kMethodNotAllowed,
                                                        "the scale subresource supports "
                                                        "get, update and patch"));
  if (!body.ok()) return ReplyResult(res, 200, body.status(), p, r);
  verb = "update";
  return ReplyResult(res, 200, objects_.UpdateScale(p, r, *body), p, r);
}

void Server::HandleRead(const RequestPath& p, const ResourceInfo& info, const net::HttpRequest& req,
                        net::HttpResponse& res, std::string& verb) {
  const ResourceInfo* r = &info;
  auto fail = [&](const Status& s) { Reply(res, HttpCode(s.reason()), StatusBody(s, {p.name, p.group, p.resource})); };
  if (!p.name.empty()) {
    verb = "get";
    auto obj = objects_.Get(p, *r);
    if (obj.ok() && WantsTable(req.Header("Accept"))) {
      return Reply(
          res, 200,
          ToTable(*r, {*obj}, (*obj)["metadata"].value("resourceVersion", ""), std::chrono::system_clock::now()));
    }
    return ReplyResult(res, 200, obj, p, *r);
  }
  auto opts = ParseListOptions(req);
  if (!opts.ok()) return fail(opts.status());
  if (*BoolParam(req, "watch")) {  // checked by ParseListOptions
    verb = "watch";
    return StartWatch(p, *r, *opts, req, res);
  }
  verb = "list";
  if (!WantsTable(req.Header("Accept"))) {
    auto text = objects_.ListText(p, *r, *opts);
    if (!text.ok()) return fail(text.status());
    res.status = 200;
    return res.SetContent(std::move(*text), "application/json");
  }
  auto list = objects_.List(p, *r, *opts);
  if (list.ok()) {
    std::vector<Json> items((*list)["items"].begin(), (*list)["items"].end());
    Json table = ToTable(*r, items, (*list)["metadata"]["resourceVersion"], std::chrono::system_clock::now());
    if ((*list)["metadata"].contains("continue")) table["metadata"]["continue"] = (*list)["metadata"]["continue"];
    return Reply(res, 200, table);
  }
  return ReplyResult(res, 200, list, p, *r);
}

void Server::StartWatch(const RequestPath& p, const ResourceInfo& r, const ListOptions& o, const net::HttpRequest& req,
                        net::HttpResponse& res) {
  const auto seconds = CountParam(req, "timeoutSeconds", std::numeric_limits<int32_t>::max());
  if (!seconds.ok()) return Reply(res, 400, StatusBody(seconds.status()));
  if (open_watches_.fetch_add(1) >= options_.max_watches) {
    open_watches_.fetch_sub(1);
    res.SetHeader("Retry-After", "1");
    return Reply(res, 429,
                 StatusBody(Status(Reason::kTooManyRequests,
                                   "too many open watches (limit " + std::to_string(options_.max_watches) + ")"),
                            {"", r.group, r.resource, 1}));
  }
  auto keep = objects_.catalog().Find(p.workspace, r.group, r.version, r.resource);
  if (keep == nullptr) {
    open_watches_.fetch_sub(1);
    return Reply(res, 404, StatusBody(NotFound("the server could not find the requested resource")));
  }
  auto start = objects_.Watch(p, r, o);
  if (!start.ok()) {
    open_watches_.fetch_sub(1);
    if (start.status().reason() != Reason::kExpired) {
      return Reply(res, HttpCode(start.status().reason()), StatusBody(start.status()));
    }
    // As the API server does: a 200 stream whose only event is an ERROR carrying 410.
    Json ev = {{"type", "ERROR"}, {"object", StatusBody(start.status())}};
    res.status = 200;
    return res.SetContent(ev.dump() + "\n", "application/json");
  }
  auto st = std::make_shared<WatchStream>(*this, std::move(start).value(), std::move(keep));
  auto timeout = options_.max_watch_timeout;
  if (*seconds) timeout = std::min(timeout, std::chrono::seconds(**seconds));
  const auto now = SteadyClock::now();
  st->deadline_ = now + timeout;
  st->bookmarks_ = *BoolParam(req, "allowWatchBookmarks");  // checked by ParseListOptions
  st->next_bookmark_ = now + options_.bookmark_interval;
  st->table_ = WantsTable(req.Header("Accept"));
  st->last_revision_ = st->from();  // a bookmark never claims events the stream has not passed
  res.status = 200;
  // "stream=watch" is what the API server sends; client-go parses it as application/json.
  res.SetHeader("Content-Type", "application/json;stream=watch");
  res.stream = std::move(st);
}

void Server::WatchStream::Append(std::string& out, Json ev) const {
  if (table_ && ev["type"] != "BOOKMARK" && ev["type"] != "ERROR") {
    ev["object"] = ToTable(info_, {ev["object"]}, ev["object"]["metadata"].value("resourceVersion", ""),
                           std::chrono::system_clock::now());
  }
  out += ev.dump();
  out += '\n';
}

bool Server::WatchStream::Pull(std::string& out, size_t budget, TimePoint now) {
  while (out.size() < budget) {
    if (server_.stopping_.load()) return false;
    if (next_initial_ < w_.initial.size()) {
      Append(out, {{"type", "ADDED"}, {"object", std::move(w_.initial[next_initial_++])}});
      continue;
    }
    if (w_.initial_events_end) {  // the streaming list is complete at the snapshot's revision
      w_.initial_events_end = false;
      Json bm = {
          {"kind", info_.kind},
          {"apiVersion", info_.GroupVersion()},
          {"metadata",
           {{"resourceVersion", std::to_string(w_.from)}, {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}};
      Append(out, {{"type", "BOOKMARK"}, {"object", bm}});
      continue;
    }
    if (now >= deadline_) return false;
    auto next = w_.watcher->Next(std::chrono::milliseconds(0));
    if (!next.ok()) {
      Append(out, {{"type", "ERROR"}, {"object", StatusBody(next.status())}});
      return false;
    }
    if (!next->has_value()) break;
    last_revision_ = (**next)->revision;
    Json ev = server_.objects_.WatchEvent(***next, w_.filters);
    if (!ev.is_null()) Append(out, std::move(ev));
  }
  if (bookmarks_ && now >= next_bookmark_) {
    // Every event up to last_revision_ has been delivered (or filtered out) on this stream.
    next_bookmark_ = now + server_.options_.bookmark_interval;
    Json bm = {{"kind", info_.kind},
               {"apiVersion", info_.GroupVersion()},
               {"metadata", {{"resourceVersion", std::to_string(last_revision_)}}}};
    Append(out, {{"type", "BOOKMARK"}, {"object", bm}});
  }
  return true;
}

void Server::HandleExplain(const RequestPath& p, const ResourceInfo& r, const net::HttpRequest& req,
                           net::HttpResponse& res) {
  auto fail = [&](const Status& s) { Reply(res, HttpCode(s.reason()), StatusBody(s, {p.name, p.group, p.resource})); };
  const std::string& method = req.method;
  if (method == "POST" && options_.explain_candidate != nullptr) {  // dry run: a spec that is not stored
    auto body = ParseBody(req);
    if (!body.ok()) return fail(body.status());
    if (body->is_object() && body->value("metadata", Json::object()).is_object()) {
      (*body)["metadata"]["name"] = p.name;
    }
    registry::Request rq;
    rq.workspace = p.workspace;
    rq.namespace_ = p.namespace_;
    rq.name = p.name;
    auto checked = objects_.CheckNew(rq, r, std::move(*body));
    if (!checked.ok()) return fail(checked.status());
    auto out = options_.explain_candidate(p.workspace, p.namespace_, *checked);
    if (!out.ok()) return fail(out.status());
    return Reply(res, 200, *out);
  }
  if (method != "GET") {
    return fail(Status(Reason::kMethodNotAllowed,
                       "explain: GET explains the stored placement, POST a WorkloadPlacement to evaluate one that "
                       "is not stored"));
  }
  auto out = options_.explain_placement(p.workspace, p.namespace_, p.name);
  if (!out.ok()) return fail(out.status());
  return Reply(res, 200, *out);
}

}  // namespace tmcd::api
