#pragma once
// `--watch` on the list commands (kubectl get -w): after the list, every change of the collection as it
// happens, until interrupted; a watch the server ends is resumed from the last resourceVersion.

#include <functional>
#include <string>
#include <vector>

#include "ctl/session.h"

namespace tmcd::ctl {

// The rows of `items` in the list's columns (the header is not printed again); `deleted` when the
// watch said the object went (kubectl prints its last state; an aggregating list forgets it).
using RowsFn = std::function<Table(const std::vector<Json>& items, bool deleted)>;

// Watches `ref` from `resource_version`: table/wide print each changed object's row, json/yaml the
// object, name its name. Runs until the process is interrupted, or returns the exit code of the error
// that ended the watch.
int WatchRows(Session& s, const kube::ResourceRef& ref, const std::string& resource_version,
              const std::string& label_selector, const RowsFn& rows);

}  // namespace tmcd::ctl
