#include "ctl/watch.h"

#include "common/strings.h"

namespace tmcd::ctl {

int WatchRows(Session& s, const kube::ResourceRef& ref, const std::string& resource_version,
              const std::string& label_selector, const RowsFn& rows) {
  std::string rv = resource_version;
  for (;;) {
    kube::WatchOptions o;
    o.resource_version = rv;
    o.label_selector = label_selector;
    o.allow_bookmarks = true;
    Status st = s.conn.client->Watch(ref, o, [&](kube::WatchEvent& e) {
      if (!e.resource_version.empty()) rv = e.resource_version;
      if (e.type == kube::WatchEventType::kBookmark) return true;
      Json obj = Json::parse(e.object, nullptr, false);
      if (obj.is_discarded()) return true;
      if (s.format == Format::kTable || s.format == Format::kWide) {
        const Table t = rows({obj}, e.type == kube::WatchEventType::kDeleted);
        if (t.rows.empty()) return true;
        const std::string text = RenderTable(t, s.format == Format::kWide);
        *s.out << text.substr(text.find('\n') + 1);  // the row without the header
      } else {
        *s.out << RenderObjects({obj}, s.format, false);
      }
      s.out->flush();
      return true;
    });
    if (!st.ok()) return Fail(s, st, st.reason() == Reason::kGone ? "the watch fell too far behind; run it again" : "");
  }
}

}  // namespace tmcd::ctl
