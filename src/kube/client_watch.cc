// Client::Watch: one streamed GET ?watch=1, decoded incrementally.
#include <httplib.h>

#include <thread>

#include "kube/client.h"
#include "kube/errors.h"
#include "kube/url.h"

namespace tmcd::kube {

std::string TransportError(httplib::Error e, const httplib::ClientImpl& c);

namespace {

constexpr size_t kMaxErrorBody = size_t{1} << 20;

}  // namespace

Status Client::Watch(const ResourceRef& r, const WatchOptions& o, const std::function<bool(WatchEvent&)>& on_event,
                     WatchCancel* cancel) {
  std::string path = PrefixFor(r.Path()) + r.Path();
  AddParam(path, "watch", "1");
  AddParam(path, "labelSelector", o.label_selector);
  AddParam(path, "fieldSelector", o.field_selector);
  AddParam(path, "resourceVersion", o.resource_version);
  if (o.allow_bookmarks) AddParam(path, "allowWatchBookmarks", "true");
  if (o.send_initial_events) {
    AddParam(path, "sendInitialEvents", "true");
    AddParam(path, "resourceVersionMatch", "NotOlderThan");
  }
  AddParam(path, "timeoutSeconds", std::to_string(o.timeout.count()));
  std::this_thread::sleep_for(limiter_.Reserve(std::chrono::steady_clock::now()));
  // The server ends the stream at timeoutSeconds; the read timeout only catches a dead peer.
  TMCD_ASSIGN_OR_RETURN(auto cli, NewConnection(o.timeout + std::chrono::seconds(60)));
  if (cancel != nullptr && cancel->cancelled()) return Status::Ok();
  if (cancel != nullptr) {
    std::lock_guard<std::mutex> lock(cancel->mu_);
    cancel->active_ = cli.get();
  }
  httplib::Headers headers = {{"Accept", "application/json"}, {"User-Agent", options_.user_agent}};
  if (const std::string t = Token(); !t.empty()) {
    if (std::string why = TokenProblem(t); !why.empty()) return BadRequest("the bearer token " + why);
    headers.emplace("Authorization", "Bearer " + t);
  }
  WatchDecoder decoder;
  Status stream_status = Status::Ok();
  bool stopped = false;
  int code = 0;
  std::string error_body;
  auto res = cli->Get(
      path, headers,
      [&](const httplib::Response& head) {
        code = head.status;
        return true;
      },
      [&](const char* data, size_t len) {
        if (code != 200) {
          error_body.append(data, len);
          return error_body.size() < kMaxErrorBody;
        }
        Status s = decoder.Feed({data, len}, [&](WatchEvent& ev) {
          if (ev.type == WatchEventType::kError) {
            stream_status = ev.error;
            return false;
          }
          stopped = !on_event(ev);
          return !stopped;
        });
        if (!s.ok()) stream_status = s;
        return stream_status.ok() && !stopped;
      });
  if (cancel != nullptr) {
    std::lock_guard<std::mutex> lock(cancel->mu_);
    cancel->active_ = nullptr;
    if (cancel->cancelled()) return Status::Ok();
  }
  if (!stream_status.ok()) return stream_status;
  if (stopped) return Status::Ok();
  if (!res && code == 0) {
    return Status(
        res.error() == httplib::Error::SSLServerVerification ? Reason::kBadRequest : Reason::kServiceUnavailable,
        TransportError(res.error(), *cli) + " (watch " + config_.server + r.Path() + ")");
  }
  if (code == 401) TokenRotated();  // the next watch uses a rotated token at once
  if (code != 200) return DecodeStatus(code, error_body);
  if (!res || decoder.HasPartial()) {
    return Status(Reason::kServiceUnavailable, "the watch stream broke off inside an event; re-watch");
  }
  return Status::Ok();
}

}  // namespace tmcd::kube
