#include "apis/meta/quantity.h"

#include <doctest/doctest.h>

namespace tmcd::apis {
namespace {

Quantity Q(const char* s) {
  auto q = Quantity::Parse(s);
  REQUIRE_MESSAGE(q.ok(), s);
  return *q;
}

TEST_CASE("quantities parse to exact values") {
  struct Row {
    const char* text;
    int64_t milli;
  };
  for (const Row& r : std::initializer_list<Row>{
           {"0", 0},
           {"1", 1000},
           {"500m", 500},
           {"1.5", 1500},
           {"0.1", 100},
           {".5", 500},
           {"2k", 2000000},
           {"1Ki", 1024000},
           {"2Gi", 2147483648000},
           {"1e3", 1000000},
           {"1E-3", 1},
           {"+3", 3000},
           {"-2", -2000},
           {"100n", 1},
           {"1u", 1},
           {"64", 64000},
           {"1.", 1000},
           {"256Gi", 274877906944000},
       }) {
    CAPTURE(r.text);
    CHECK(Q(r.text).MilliValue() == r.milli);
    CHECK(Q(r.text).str() == r.text);
  }
  CHECK(Q("1.5").Value() == 2);  // rounds up like Kubernetes
  CHECK(Q("1Ei").Value() == 1152921504606846976);
}

TEST_CASE("quantities compare by value, not text") {
  CHECK(Q("1").Compare(Q("1000m")) == std::strong_ordering::equal);
  CHECK(Q("1Gi").Compare(Q("1G")) == std::strong_ordering::greater);
  CHECK(Q("500m").Compare(Q("0.5")) == std::strong_ordering::equal);
  CHECK(Q("1Mi").Compare(Q("1049k")) == std::strong_ordering::less);
  CHECK(Q("-1").Compare(Q("0")) == std::strong_ordering::less);
  CHECK(Q("1") != Q("1000m"));  // operator== compares the text (round trips)
  CHECK(Quantity::FromMilli(1500).str() == "1500m");
  CHECK(Quantity::FromMilli(2000).str() == "2");
}

TEST_CASE("malformed quantities are rejected with a clear message") {
  // Found by fuzzing (fuzz/corpus/fuzz_quantity): 30 digits with a binary suffix overflowed 128 bits.
  CHECK_FALSE(Quantity::Parse("52888883538.8888888888683844Ti").ok());
  CHECK_FALSE(Quantity::Parse("999999999999999999999999999999Ei").ok());
  CHECK(Quantity::Parse("0.00000000000000000000000001").ok());  // rounds up to 1n
  for (const char* bad : {"", "abc", "1.2.3", "1Kb", "1 Gi", "Gi", "--1", "1e", "1e1000", "1ee3", "9999999999999999999",
                          "1.0.0m", "1Zi", "0x10", "1.5e3.2"}) {
    CAPTURE(bad);
    auto q = Quantity::Parse(bad);
    REQUIRE_FALSE(q.ok());
    CHECK(q.status().message().find("quantity") != std::string::npos);
  }
}

}  // namespace
}  // namespace tmcd::apis

namespace tmcd::apis {
namespace {

TEST_CASE("quantities add and subtract exactly, with canonical text") {
  auto q = [](const char* s) { return *Quantity::Parse(s); };
  CHECK(q("1").Plus(q("500m")).str() == "1500m");
  CHECK(q("2Gi").Minus(q("1Gi")).str() == "1073741824");
  CHECK(q("4").Minus(q("4000m")).str() == "0");
  CHECK(q("1").Minus(q("3")).str() == "-2");
  CHECK(q("1").Minus(q("3")).IsNegative());
  CHECK(q("100n").Plus(q("1")).str() == "1000000100n");
  CHECK(q("1500m").Plus(q("1500m")).Compare(q("3")) == std::strong_ordering::equal);
}

}  // namespace
}  // namespace tmcd::apis
