#include "apis/meta/selector.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "apis/meta/names.h"
#include "common/strings.h"

namespace tmcd::apis {
namespace {

using Op = Selector::Op;

bool IsIdentChar(char c) {
  return c != ' ' && c != '\t' && c != ',' && c != '=' && c != '!' && c != '(' && c != ')' && c != '<' && c != '>';
}

// A hand-written lexer/parser over the selector grammar of k8s.io/apimachinery/pkg/labels.
class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Status ParseAll(std::vector<Selector::Requirement>& out) {
    SkipSpace();
    if (pos_ == s_.size()) return Status::Ok();
    while (true) {
      Selector::Requirement r;
      TMCD_TRY(ParseRequirement(r));
      out.push_back(std::move(r));
      SkipSpace();
      if (pos_ == s_.size()) return Status::Ok();
      if (s_[pos_] != ',') return Error("expected ','");
      ++pos_;
    }
  }

 private:
  Status ParseRequirement(Selector::Requirement& r) {
    SkipSpace();
    if (Peek('!')) {
      ++pos_;
      r.key = Ident();
      if (r.key.empty()) return Error("expected a key after '!'");
      r.op = Op::kDoesNotExist;
      return Status::Ok();
    }
    r.key = Ident();
    if (r.key.empty()) return Error("expected a key");
    SkipSpace();
    if (pos_ == s_.size() || s_[pos_] == ',') {
      r.op = Op::kExists;
      return Status::Ok();
    }
    if (Consume("==")) return Value(r, Op::kDoubleEquals);
    if (Consume("!=")) return Value(r, Op::kNotEquals);
    if (Consume("=")) return Value(r, Op::kEquals);
    if (Consume(">")) return Value(r, Op::kGreaterThan);
    if (Consume("<")) return Value(r, Op::kLessThan);
    size_t save = pos_;
    std::string word = Ident();
    if (word == "in") return ValueSet(r, Op::kIn);
    if (word == "notin") return ValueSet(r, Op::kNotIn);
    pos_ = save;
    return Error("expected an operator (=, ==, !=, in, notin, <, >)");
  }

  Status Value(Selector::Requirement& r, Op op) {
    SkipSpace();
    r.op = op;
    r.values = {Ident()};
    return Status::Ok();
  }

  Status ValueSet(Selector::Requirement& r, Op op) {
    r.op = op;
    SkipSpace();
    if (!Peek('(')) return Error("expected '(' after " + std::string(op == Op::kIn ? "in" : "notin"));
    ++pos_;
    SkipSpace();
    if (Peek(')')) {  // "in ()": an empty set, rejected by Add with the API server's message
      ++pos_;
      return Status::Ok();
    }
    while (true) {
      SkipSpace();
      r.values.push_back(Ident());
      SkipSpace();
      if (Peek(')')) {
        ++pos_;
        return Status::Ok();
      }
      if (!Peek(',')) return Error("expected ',' or ')' in value set");
      ++pos_;
    }
  }

  std::string Ident() {
    size_t start = pos_;
    while (pos_ < s_.size() && IsIdentChar(s_[pos_])) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool Consume(std::string_view tok) {
    if (s_.substr(pos_, tok.size()) != tok) return false;
    pos_ += tok.size();
    return true;
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  Status Error(const std::string& what) const {
    return BadRequest("unable to parse requirement: " + what + " at position " + std::to_string(pos_) + " in " +
                      Quote(s_));
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool ParseInt(const std::string& s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

std::string OpString(Op op) {
  switch (op) {
    case Op::kIn:
      return " in ";
    case Op::kNotIn:
      return " notin ";
    case Op::kEquals:
      return "=";
    case Op::kDoubleEquals:
      return "==";
    case Op::kNotEquals:
      return "!=";
    case Op::kGreaterThan:
      return ">";
    case Op::kLessThan:
      return "<";
    default:
      return "";
  }
}

}  // namespace

bool Selector::Requirement::Matches(const Labels& labels) const {
  auto it = labels.find(key);
  bool has = it != labels.end();
  auto in_set = [&] { return has && std::binary_search(values.begin(), values.end(), it->second); };
  switch (op) {
    case Op::kIn:
    case Op::kEquals:
    case Op::kDoubleEquals:
      return in_set();
    case Op::kNotIn:
    case Op::kNotEquals:
      return !in_set();
    case Op::kExists:
      return has;
    case Op::kDoesNotExist:
      return !has;
    case Op::kGreaterThan:
    case Op::kLessThan: {
      int64_t have = 0, want = 0;
      if (!has || !ParseInt(it->second, have) || !ParseInt(values.front(), want)) return false;
      return op == Op::kGreaterThan ? have > want : have < want;
    }
  }
  return false;
}

std::string Selector::Requirement::String() const {
  if (op == Op::kExists) return key;
  if (op == Op::kDoesNotExist) return "!" + key;
  if (op == Op::kIn || op == Op::kNotIn) return key + OpString(op) + "(" + Join(values, ",") + ")";
  return key + OpString(op) + values.front();
}

Selector Selector::Nothing() {
  Selector s;
  s.nothing_ = true;
  return s;
}

Status Selector::Add(Requirement r) {
  for (const auto& msg : CheckQualifiedName(r.key)) return BadRequest("invalid label key " + Quote(r.key) + ": " + msg);
  bool set_op = r.op == Op::kIn || r.op == Op::kNotIn;
  if (set_op && r.values.empty()) {
    return BadRequest("for 'in', 'notin' operators, values set can't be empty (key " + Quote(r.key) + ")");
  }
  if ((r.op == Op::kExists || r.op == Op::kDoesNotExist) && !r.values.empty()) {
    return BadRequest("values set must be empty for exists and does not exist (key " + Quote(r.key) + ")");
  }
  for (const auto& v : r.values) {
    for (const auto& msg : CheckLabelValue(v)) return BadRequest("invalid label value " + Quote(v) + ": " + msg);
  }
  if (r.op == Op::kGreaterThan || r.op == Op::kLessThan) {
    int64_t n = 0;
    if (!ParseInt(r.values.front(), n)) {
      return BadRequest("for 'Gt', 'Lt' operators, the value must be an integer (key " + Quote(r.key) + ")");
    }
  }
  std::sort(r.values.begin(), r.values.end());
  r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
  reqs_.push_back(std::move(r));
  return Status::Ok();
}

Result<Selector> Selector::Parse(std::string_view s) {
  std::vector<Requirement> raw;
  Parser p(s);
  TMCD_TRY(p.ParseAll(raw));
  Selector out;
  for (auto& r : raw) TMCD_TRY(out.Add(std::move(r)));
  std::stable_sort(out.reqs_.begin(), out.reqs_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  return out;
}

Result<Selector> Selector::FromLabelSelector(const LabelSelector& ls) {
  Selector out;
  for (const auto& [k, v] : ls.match_labels) TMCD_TRY(out.Add({k, Op::kEquals, {v}}));
  for (const auto& e : ls.match_expressions) {
    Op op = Op::kIn;
    if (e.op == "In")
      op = Op::kIn;
    else if (e.op == "NotIn")
      op = Op::kNotIn;
    else if (e.op == "Exists")
      op = Op::kExists;
    else if (e.op == "DoesNotExist")
      op = Op::kDoesNotExist;
    else
      return BadRequest(Quote(e.op) + " is not a valid label selector operator");
    TMCD_TRY(out.Add({e.key, op, e.values}));
  }
  std::stable_sort(out.reqs_.begin(), out.reqs_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  return out;
}

bool Selector::Matches(const Labels& labels) const {
  if (nothing_) return false;
  return std::all_of(reqs_.begin(), reqs_.end(), [&](const Requirement& r) { return r.Matches(labels); });
}

std::string Selector::String() const {
  std::vector<std::string> parts;
  for (const auto& r : reqs_) parts.push_back(r.String());
  return Join(parts, ",");
}

void CheckRules(const LabelSelector& s, const std::string& path, FieldErrors& errs) {
  const std::string ml = JoinPath(path, "matchLabels");
  for (const auto& [k, v] : s.match_labels) {
    for (const auto& msg : CheckQualifiedName(k)) errs.Invalid(ml, Quote(k), msg);
    for (const auto& msg : CheckLabelValue(v)) errs.Invalid(KeyPath(ml, k), Quote(v), msg);
  }
  for (size_t i = 0; i < s.match_expressions.size(); ++i) {
    const auto& e = s.match_expressions[i];
    const std::string ep = IndexPath(JoinPath(path, "matchExpressions"), i);
    if (!e.key.empty()) {
      for (const auto& msg : CheckQualifiedName(e.key)) errs.Invalid(JoinPath(ep, "key"), Quote(e.key), msg);
    }
    bool set_op = e.op == "In" || e.op == "NotIn";
    if (set_op && e.values.empty())
      errs.Required(JoinPath(ep, "values"), "must be specified when `operator` is 'In' or 'NotIn'");
    if ((e.op == "Exists" || e.op == "DoesNotExist") && !e.values.empty()) {
      errs.Forbidden(JoinPath(ep, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    }
    for (size_t j = 0; j < e.values.size(); ++j) {
      for (const auto& msg : CheckLabelValue(e.values[j])) {
        errs.Invalid(IndexPath(JoinPath(ep, "values"), j), Quote(e.values[j]), msg);
      }
    }
  }
}

std::string LabelSelectorString(const nlohmann::json& selector) {
  if (!selector.is_object()) return "";
  auto str = [](const nlohmann::json& o, const char* k) {
    auto it = o.find(k);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::multimap<std::string, std::string> reqs;
  if (auto labels = selector.find("matchLabels"); labels != selector.end() && labels->is_object()) {
    for (auto it = labels->begin(); it != labels->end(); ++it) {
      reqs.emplace(it.key(), it.key() + "=" + (it->is_string() ? it->get<std::string>() : ""));
    }
  }
  if (auto exprs = selector.find("matchExpressions"); exprs != selector.end() && exprs->is_array()) {
    for (const auto& e : *exprs) {
      if (!e.is_object()) continue;
      const std::string key = str(e, "key");
      const std::string op = str(e, "operator");
      if (key.empty()) continue;
      std::set<std::string> values;
      if (auto v = e.find("values"); v != e.end() && v->is_array()) {
        for (const auto& x : *v) values.insert(x.is_string() ? x.get<std::string>() : "");
      }
      std::string list;
      for (const auto& v : values) list += (list.empty() ? "" : ",") + v;
      if (op == "In") reqs.emplace(key, key + " in (" + list + ")");
      if (op == "NotIn") reqs.emplace(key, key + " notin (" + list + ")");
      if (op == "Exists") reqs.emplace(key, key);
      if (op == "DoesNotExist") reqs.emplace(key, "!" + key);
    }
  }
  std::string out;
  for (const auto& [key, text] : reqs) out += (out.empty() ? "" : ",") + text;
  return out;
}

}  // namespace tmcd::apis
