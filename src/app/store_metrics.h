#pragma once
// The store's metrics read at each scrape (docs/metrics.md#store).

#include "observability/collector.h"
#include "store/store.h"

namespace tmcd::app {

void AddStoreMetrics(observability::CallbackCollector& collector, const store::Store& store);

}  // namespace tmcd::app
