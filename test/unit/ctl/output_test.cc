// tmcctl's printers: kubectl's table layout, ages and output formats (the golden files of
// test/integration/test_tmcctl.py collapse spaces, so the layout itself is checked here).
#include "ctl/output.h"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include "apis/meta/time.h"

namespace tmcd::ctl {
namespace {

TEST_CASE("tables: upper-case headers, columns padded to the widest cell plus three spaces, wide columns") {
  Table t{{"NAME", "READY", "SERVER"},
          {false, false, true},
          {{"east", "True", "https://a"}, {"a-long-name", "False", "x"}}};
  CHECK(RenderTable(t, false) ==
        "NAME          READY\n"
        "east          True\n"
        "a-long-name   False\n");
  CHECK(RenderTable(t, true) ==
        "NAME          READY   SERVER\n"
        "east          True    https://a\n"
        "a-long-name   False   x\n");
}

TEST_CASE("ages are kubectl's HumanDuration") {
  using std::chrono::seconds;
  CHECK(HumanDuration(seconds(-5)) == "<invalid>");
  CHECK(HumanDuration(seconds(-1)) == "0s");
  CHECK(HumanDuration(seconds(0)) == "0s");
  CHECK(HumanDuration(seconds(119)) == "119s");
  CHECK(HumanDuration(seconds(125)) == "2m5s");
  CHECK(HumanDuration(seconds(600)) == "10m");
  CHECK(HumanDuration(seconds(3 * 3600)) == "3h");
  CHECK(HumanDuration(seconds(3 * 3600 + 120)) == "3h2m");
  CHECK(HumanDuration(seconds(20 * 3600)) == "20h");
  CHECK(HumanDuration(seconds(3 * 86400 + 3600)) == "3d1h");
  CHECK(HumanDuration(seconds(30 * 86400)) == "30d");
  CHECK(HumanDuration(seconds(3 * 365 * 86400 + 86400)) == "3y1d");
  CHECK(HumanDuration(seconds(9 * 365 * 86400)) == "9y");
  const auto now = std::chrono::system_clock::from_time_t(1'800'000'000);
  CHECK(Age(apis::Time::FromTimePoint(now - seconds(125)).ToString(), now) == "2m5s");
  CHECK(Age(apis::Time::FromTimePoint(now - seconds(50 * 3600)).ToString(), now) == "2d2h");
  CHECK(Age("", now) == "<unknown>");
  CHECK(Age("yesterday", now) == "<unknown>");
}

TEST_CASE("byte quantities in whole binary units") {
  CHECK(BinaryQuantity("68719476736") == "64Gi");
  CHECK(BinaryQuantity("1536") == "1536");  // 1.5Ki: not a whole unit, stays in bytes
  CHECK(BinaryQuantity("2048") == "2Ki");
  CHECK(BinaryQuantity("16") == "16");
  CHECK(BinaryQuantity("64Gi") == "64Gi");
  CHECK(BinaryQuantity("500m") == "500m");
  CHECK(BinaryQuantity("0") == "0");
  CHECK(BinaryQuantity("") == "");
}

TEST_CASE("output formats: a list command prints a v1 List, one object itself, names as kind.group/name") {
  CHECK(ParseFormat("").value() == Format::kTable);
  CHECK(ParseFormat("wide").value() == Format::kWide);
  CHECK(ParseFormat("jsonpath").status().message().find("allowed formats are: json, name, table, wide, yaml") !=
        std::string::npos);
  const Json a = {{"apiVersion", "tmc.kcp.io/v1alpha1"}, {"kind", "WorkloadPlacement"}, {"metadata", {{"name", "a"}}}};
  const Json b = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "b"}}}};
  CHECK(RenderObjects({a, b}, Format::kName, true) == "workloadplacement.tmc.kcp.io/a\nsecret/b\n");
  const Json list = Json::parse(RenderObjects({a}, Format::kJson, true));
  CHECK(list["kind"] == "List");
  CHECK(list["items"].size() == 1);
  CHECK(Json::parse(RenderObjects({a}, Format::kJson, false)) == a);
  const YAML::Node y = YAML::Load(RenderObjects({a}, Format::kYaml, false));
  CHECK(y["metadata"]["name"].as<std::string>() == "a");
  CHECK(y["kind"].as<std::string>() == "WorkloadPlacement");
}

}  // namespace
}  // namespace tmcd::ctl
