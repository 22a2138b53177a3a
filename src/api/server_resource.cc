// Server: dispatch of resource requests to ObjectService, and watch streams.
#include <httplib.h>

#include "api/reply.h"
#include "api/server.h"
#include "api/status_body.h"
#include "api/table.h"
#include "common/strings.h"

namespace tmcd::api {
namespace {

using SteadyClock = std::chrono::steady_clock;

void ReplyResult(httplib::Response& res, int ok_code, const Result<Json>& r, const RequestPath& p,
                 const ResourceInfo& info) {
  if (r.ok()) return Reply(res, ok_code, *r);
  Reply(res, HttpCode(r.status().reason()), StatusBody(r.status(), {p.name, info.group, info.resource}));
}

Result<ListOptions> ParseListOptions(const httplib::Request& req) {
  ListOptions o;
  o.label_selector = req.get_param_value("labelSelector");
  o.field_selector = req.get_param_value("fieldSelector");
  o.resource_version = req.get_param_value("resourceVersion");
  o.continue_token = req.get_param_value("continue");
  if (req.has_param("limit")) {
    const std::string v = req.get_param_value("limit");
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 0) return BadRequest("limit must be a non-negative integer, got " + Quote(v));
    o.limit = static_cast<size_t>(n);
  }
  return o;
}

Result<Json> ParseBody(const httplib::Request& req) {
  if (req.body.empty()) return Json(nullptr);
  const std::string type = req.get_header_value("Content-Type");
  if (!type.empty() && !StartsWith(type, "application/json") && req.method != "PATCH") {
    return Status(Reason::kUnsupportedMediaType, "the body of the request was in an unknown format (" + type +
                                                     ") - accepted media types include: application/json");
  }
  Json body = Json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    return BadRequest("the request body is not valid JSON (tmcd accepts application/json; YAML clients convert first)");
  }
  return body;
}

}  // namespace

struct Server::WatchState {
  WatchStart w;
  const ResourceInfo* info = nullptr;
  size_t next_initial = 0;
  SteadyClock::time_point deadline;
  SteadyClock::time_point next_bookmark;
  bool bookmarks = false;
  bool table = false;
  uint64_t last_revision = 0;
};

void Server::HandleResource(const std::string& method, const RequestPath& p, const httplib::Request& req,
                            httplib::Response& res, std::string& verb, std::string& resource_label) {
  const ResourceInfo* r = FindResource(p.core ? "" : p.group, p.version, p.resource);
  auto fail = [&](const Status& s) { Reply(res, HttpCode(s.reason()), StatusBody(s, {p.name, p.group, p.resource})); };
  if (r == nullptr || (!r->namespaced && !p.namespace_.empty()) ||
      (!p.subresource.empty() && !(p.subresource == "status" && r->has_status))) {
    return fail(NotFound("the server could not find the requested resource"));
  }
  resource_label = r->QualifiedResource();
  const bool status_only = p.subresource == "status";
  if (r->read_only && method != "GET") {
    return fail(Status(Reason::kMethodNotAllowed, r->resource + " are maintained by tmcd and are read-only"));
  }
  if (method == "GET") {
    if (!p.name.empty()) {
      verb = "get";
      auto obj = objects_.Get(p, *r);
      if (obj.ok() && WantsTable(req.get_header_value("Accept"))) {
        return Reply(
            res, 200,
            ToTable(*r, {*obj}, (*obj)["metadata"].value("resourceVersion", ""), std::chrono::system_clock::now()));
      }
      return ReplyResult(res, 200, obj, p, *r);
    }
    auto opts = ParseListOptions(req);
    if (!opts.ok()) return fail(opts.status());
    if (req.get_param_value("watch") == "1" || req.get_param_value("watch") == "true") {
      verb = "watch";
      return StartWatch(p, *r, *opts, req, res);
    }
    verb = "list";
    if (!WantsTable(req.get_header_value("Accept"))) {
      auto text = objects_.ListText(p, *r, *opts);
      if (!text.ok()) return fail(text.status());
      res.status = 200;
      return res.set_content(*text, "application/json");
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
    return ReplyResult(res, 200, objects_.Patch(p, *r, req.get_header_value("Content-Type"), req.body, status_only), p,
                       *r);
  }
  verb = "delete";
  if (status_only) return fail(Status(Reason::kMethodNotAllowed, "the status subresource cannot be deleted"));
  return ReplyResult(res, 200, objects_.Delete(p, *r, *body), p, *r);
}

void Server::StartWatch(const RequestPath& p, const ResourceInfo& r, const ListOptions& o, const httplib::Request& req,
                        httplib::Response& res) {
  if (open_watches_.fetch_add(1) >= options_.max_watches) {
    open_watches_.fetch_sub(1);
    res.set_header("Retry-After", "1");
    return Reply(res, 429,
                 StatusBody(Status(Reason::kTooManyRequests,
                                   "too many open watches (limit " + std::to_string(options_.max_watches) + ")"),
                            {"", r.group, r.resource, 1}));
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
    return res.set_content(ev.dump() + "\n", "application/json");
  }
  auto st = std::make_shared<WatchState>();
  st->w = std::move(start).value();
  st->info = &r;
  auto timeout = options_.max_watch_timeout;
  if (req.has_param("timeoutSeconds")) {
    timeout = std::min(timeout,
                       std::chrono::seconds(std::strtoll(req.get_param_value("timeoutSeconds").c_str(), nullptr, 10)));
  }
  st->deadline = SteadyClock::now() + timeout;
  st->bookmarks = req.get_param_value("allowWatchBookmarks") == "true";
  st->next_bookmark = SteadyClock::now() + options_.bookmark_interval;
  st->table = WantsTable(req.get_header_value("Accept"));
  st->last_revision = store_.CurrentRevision();
  res.status = 200;
  // "stream=watch" (which client-go parses as application/json + a parameter) also keeps httplib from
  // gzip-buffering the stream: it compresses only the exact media type application/json.
  res.set_chunked_content_provider(
      "application/json;stream=watch",
      [this, st](size_t /*offset*/, httplib::DataSink& sink) { return PumpWatch(*st, sink); },
      [this, st](bool /*success*/) {
        st->w.watcher->Close(Status(Reason::kGone, "watch ended"));
        open_watches_.fetch_sub(1);
      });
}

bool Server::PumpWatch(WatchState& st, httplib::DataSink& sink) {
  auto write = [&](Json ev) {
    if (st.table && ev["type"] != "BOOKMARK" && ev["type"] != "ERROR") {
      ev["object"] = ToTable(*st.info, {ev["object"]}, ev["object"]["metadata"].value("resourceVersion", ""),
                             std::chrono::system_clock::now());
    }
    std::string line = ev.dump() + "\n";
    return sink.write(line.data(), line.size());
  };
  if (stopping_.load()) return sink.done(), true;
  if (st.next_initial < st.w.initial.size())
    return write({{"type", "ADDED"}, {"object", st.w.initial[st.next_initial++]}});
  const auto now = SteadyClock::now();
  if (now >= st.deadline) return sink.done(), true;
  auto wait = std::min({st.deadline - now, st.next_bookmark - now, SteadyClock::duration(std::chrono::seconds(1))});
  auto next = st.w.watcher->Next(std::chrono::duration_cast<std::chrono::milliseconds>(wait));
  if (!next.ok()) {
    write({{"type", "ERROR"}, {"object", StatusBody(next.status())}});
    return sink.done(), true;
  }
  if (next->has_value()) {
    st.last_revision = (*next)->revision;
    Json ev = objects_.WatchEvent(**next, st.w.filters);
    if (!ev.is_null() && !write(std::move(ev))) return false;
  }
  if (st.bookmarks && SteadyClock::now() >= st.next_bookmark) {
    // Every event up to last_revision has been delivered (or filtered out) on this stream.
    st.next_bookmark = SteadyClock::now() + options_.bookmark_interval;
    Json bm = {{"kind", st.info->kind},
               {"apiVersion", st.info->GroupVersion()},
               {"metadata", {{"resourceVersion", std::to_string(st.last_revision)}}}};
    if (!write({{"type", "BOOKMARK"}, {"object", bm}})) return false;
  }
  return sink.is_writable();
}

}  // namespace tmcd::api
