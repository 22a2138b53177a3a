#pragma once
// Custom resources the syncer syncs (docs/interpreter.md#custom-resources): one set of rules per
// ResourceInterpreter of a workspace, read as the same KindRules the built-in kinds have. Thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/register.h"
#include "store/store.h"
#include "sync/interpreter.h"

namespace tmcd::sync {

using RulesPtr = std::shared_ptr<const KindRules>;

// The rules an interpreter declares (validated by the API: every path parses).
Result<KindRules> RulesFromInterpreter(const apis::v1alpha1::ResourceInterpreter& ri);

class CustomKinds {
 public:
  // The rules for (group, resource) in `ws`, or null.
  RulesPtr Find(const std::string& ws, const std::string& group, const std::string& resource) const;
  std::vector<RulesPtr> InWorkspace(const std::string& ws) const;
  // An interpreter changed ("" = deleted); returns the target's rules before and after the change.
  std::pair<RulesPtr, RulesPtr> Update(const store::ObjectKey& k, const std::string& json);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, RulesPtr>> rules_;  // ws → "<resource>.<group>" → rules
};

}  // namespace tmcd::sync
