#include "apis/meta/selector.h"

#include <doctest/doctest.h>

#include "apis/meta/field_errors.h"

namespace tmcd::apis {
namespace {

TEST_CASE("selector strings parse, match and print canonically") {
  Labels web{{"app", "web"}, {"env", "prod"}, {"tier", "3"}};
  Labels db{{"app", "db"}, {"env", "dev"}};
  struct Row {
    const char* sel;
    const char* canonical;
    bool matches_web;
    bool matches_db;
  };
  for (const Row& r : std::initializer_list<Row>{
           {"", "", true, true},
           {"app=web", "app=web", true, false},
           {"app==web", "app==web", true, false},
           {"app!=web", "app!=web", false, true},
           {"env in (prod, staging)", "env in (prod,staging)", true, false},
           {"env notin (prod)", "env notin (prod)", false, true},
           {"tier", "tier", true, false},
           {"!tier", "!tier", false, true},
           {"tier>2", "tier>2", true, false},
           {"tier<2", "tier<2", false, false},
           {"missing!=x", "missing!=x", true, true},
           {" env=prod , app in (web,db) ", "app in (db,web),env=prod", true, false},
           {"example.com/team=a", "example.com/team=a", false, false},
           {"app=", "app=", false, false},
       }) {
    CAPTURE(r.sel);
    auto s = Selector::Parse(r.sel);
    REQUIRE(s.ok());
    CHECK(s->String() == r.canonical);
    CHECK(s->Matches(web) == r.matches_web);
    CHECK(s->Matches(db) == r.matches_db);
    auto again = Selector::Parse(s->String());  // the canonical form parses to itself
    REQUIRE(again.ok());
    CHECK(again->String() == r.canonical);
  }
  CHECK(Selector::Everything().IsEverything());
  CHECK_FALSE(Selector::Nothing().Matches({}));
}

TEST_CASE("bad selector strings are rejected with the reason") {
  struct Row {
    const char* sel;
    const char* want;
  };
  for (const Row& r : std::initializer_list<Row>{
           {"app in ()", "values set can't be empty"},
           {"app in (a", "expected ',' or ')'"},
           {"app in a", "expected '('"},
           {"app ~ b", "expected an operator"},
           {",", "expected a key"},
           {"app=b,", "expected a key"},
           {"!", "expected a key after '!'"},
           {"bad key=x", "expected an operator"},
           {"-bad=x", "invalid label key"},
           {"app=has space", "expected ','"},
           {"app=-x", "invalid label value"},
           {"tier>abc", "must be an integer"},
           {"a/b/c=x", "invalid label key"},
       }) {
    std::string sel = r.sel;
    CAPTURE(sel);
    auto s = Selector::Parse(r.sel);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().reason() == Reason::kBadRequest);
    CHECK(s.status().message().find(r.want) != std::string::npos);
  }
}

TEST_CASE("LabelSelector JSON form compiles to the same semantics") {
  LabelSelector ls;
  ls.match_labels = {{"app", "web"}};
  ls.match_expressions = {{"env", "In", {"prod", "staging"}}, {"legacy", "DoesNotExist", {}}};
  auto s = Selector::FromLabelSelector(ls);
  REQUIRE(s.ok());
  CHECK(s->String() == "app=web,env in (prod,staging),!legacy");
  CHECK(s->Matches({{"app", "web"}, {"env", "prod"}}));
  CHECK_FALSE(s->Matches({{"app", "web"}, {"env", "prod"}, {"legacy", "1"}}));
  CHECK(Selector::FromLabelSelector({}).value().IsEverything());

  ls.match_expressions = {{"env", "In", {}}};
  CHECK_FALSE(Selector::FromLabelSelector(ls).ok());
  ls.match_expressions = {{"env", "Exists", {"x"}}};
  CHECK_FALSE(Selector::FromLabelSelector(ls).ok());
  ls.match_expressions = {{"env", "Near", {"x"}}};
  CHECK_FALSE(Selector::FromLabelSelector(ls).ok());

  FieldErrors errs;
  LabelSelector bad;
  bad.match_labels = {{"bad key", "v"}};
  bad.match_expressions = {{"env", "In", {}}, {"x", "Exists", {"y"}}};
  CheckRules(bad, "spec.sel", errs);
  REQUIRE(errs.size() == 3);
  CHECK(errs.errors()[0].Message().find("spec.sel.matchLabels: Invalid value: \"bad key\"") == 0);
  CHECK(errs.errors()[1].Message() ==
        "spec.sel.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'");
  CHECK(errs.errors()[2].field == "spec.sel.matchExpressions[1].values");
}

}  // namespace
}  // namespace tmcd::apis

#include "apis/meta/validate.h"

namespace tmcd::apis {
namespace {

TEST_CASE("generic validation and defaulting from FieldOpts") {
  LabelSelector ls;
  ls.match_expressions = {{"", "Near", {std::string(64, 'v')}}};
  FieldErrors errs;
  ValidateFields(ls, errs);
  std::vector<std::string> msgs;
  for (const auto& e : errs.errors()) msgs.push_back(e.Message());
  REQUIRE(msgs.size() == 4);  // the generic rules first, then the selector's own (label value syntax)
  CHECK(msgs[3].find("matchExpressions[0].values[0]: Invalid value") == 0);
  CHECK(msgs[0] == "matchExpressions[0].key: Required value");
  CHECK(msgs[1].find("matchExpressions[0].operator: Unsupported value: \"Near\": supported values: \"In\"") == 0);
  CHECK(msgs[2] == "matchExpressions[0].values[0]: Too long: may not be more than 63 bytes");
}

// A small type with declared defaults and ranges, to test the visitors on their own.
struct Probe {
  int32_t period = 0;
  std::string mode;
  std::vector<std::string> tags;
};
constexpr std::array<std::string_view, 2> kModes = {"fast", "slow"};
template <class V>
void Reflect(V& v, Probe& o) {
  v.Field("period", o.period, {.default_json = "10", .minimum = 1, .maximum = 60});
  v.Field("mode", o.mode, {.default_json = R"("fast")", .enum_values = kModes});
  v.Field("tags", o.tags, {.max_items = 2});
}

TEST_CASE("defaults fill only empty fields; ranges and list sizes are enforced") {
  std::vector<Probe> probes(2);
  probes[1].period = 30;
  probes[1].mode = "slow";
  ApplyDefaults(probes);
  CHECK(probes[0].period == 10);
  CHECK(probes[0].mode == "fast");
  CHECK(probes[1].period == 30);
  CHECK(probes[1].mode == "slow");
  Probe bad{61, "medium", {"a", "b", "c"}};
  FieldErrors errs;
  ValidateFields(bad, errs);
  REQUIRE(errs.size() == 3);
  CHECK(errs.errors()[0].Message() == "period: Invalid value: 61: must be less than or equal to 60");
  CHECK(errs.errors()[1].Message() == "mode: Unsupported value: \"medium\": supported values: \"fast\", \"slow\"");
  CHECK(errs.errors()[2].Message() == "tags: Too many: 3: must have at most 2 items");
}

}  // namespace
}  // namespace tmcd::apis
