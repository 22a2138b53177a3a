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
// The rules of a stored interpreter after the local API's own validation, which kcp (schema checks
// only) does not run: a 422-style error says why the interpreter cannot be used.
Result<KindRules> RulesFromStored(std::string_view json);
Result<KindRules> RulesFromChecked(const apis::v1alpha1::ResourceInterpreter& ri);  // the same, decoded

class CustomKinds {
 public:
  // The rules for (group, resource) in `ws`, or null.
  RulesPtr Find(const std::string& ws, const std::string& group, const std::string& resource) const;
  std::vector<RulesPtr> InWorkspace(const std::string& ws) const;
  // An interpreter changed ("" = deleted): the target's rules before and after, and whether its spec
  // changed (a status write changes nothing the syncer uses).
  struct Change {
    RulesPtr before, now;
    bool spec_changed = false;
  };
  Change Update(const store::ObjectKey& k, const std::string& json);

 private:
  struct Entry {
    RulesPtr rules;    // null: present but unusable
    std::string spec;  // the spec as stored, to tell a spec change from a status write
  };
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, Entry>> rules_;  // ws → "<resource>.<group>" → rules
};

}  // namespace tmcd::sync
