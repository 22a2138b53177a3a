#include "apis/meta/condition.h"

#include <algorithm>
#include <set>

#include "common/strings.h"

namespace tmcd::apis {

void CheckConditionList(const std::vector<Condition>& list, const std::string& path, FieldErrors& errs) {
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!seen.insert(list[i].type).second) errs.Duplicate(IndexPath(path, i) + ".type", Quote(list[i].type));
  }
}

const Condition* FindCondition(const std::vector<Condition>& list, std::string_view type) {
  auto it = std::find_if(list.begin(), list.end(), [&](const Condition& c) { return c.type == type; });
  return it == list.end() ? nullptr : &*it;
}

bool IsConditionTrue(const std::vector<Condition>& list, std::string_view type) {
  const Condition* c = FindCondition(list, type);
  return c != nullptr && c->status == kConditionTrue;
}

bool SetCondition(std::vector<Condition>& list, Condition c, const Time& now) {
  auto it = std::find_if(list.begin(), list.end(), [&](const Condition& e) { return e.type == c.type; });
  if (it == list.end()) {
    if (!c.last_transition_time.set) c.last_transition_time = now;
    list.push_back(std::move(c));
    return true;
  }
  if (it->status != c.status) {
    c.last_transition_time = c.last_transition_time.set ? c.last_transition_time : now;
  } else {
    c.last_transition_time = it->last_transition_time;
  }
  if (*it == c) return false;
  *it = std::move(c);
  return true;
}

bool RemoveCondition(std::vector<Condition>& list, std::string_view type) {
  auto it = std::remove_if(list.begin(), list.end(), [&](const Condition& c) { return c.type == type; });
  bool changed = it != list.end();
  list.erase(it, list.end());
  return changed;
}

Condition MakeCondition(std::string_view type, std::string_view status, std::string reason, std::string message,
                        int64_t observed_generation) {
  Condition c;
  c.type = std::string(type);
  c.status = std::string(status);
  c.reason = std::move(reason);
  c.message = std::move(message);
  c.observed_generation = observed_generation;
  return c;
}

}  // namespace tmcd::apis
