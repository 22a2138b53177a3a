#include "common/strings.h"

#include <doctest/doctest.h>

namespace tmcd {
namespace {

TEST_CASE("split, join, trim, quote") {
  CHECK(Split("a,b,,c", ',') == std::vector<std::string>{"a", "b", "", "c"});
  CHECK(Split("", ',') == std::vector<std::string>{""});
  CHECK(Join({"a", "b"}, ", ") == "a, b");
  CHECK(Trim("  x y \n") == "x y");
  CHECK(Quote("a\"b\\c\n") == R"("a\"b\\c\n")");
  CHECK(JsonEscape(std::string("t\tr\r\x01\x1f", 6)) == R"(t\tr\r\u0001\u001f)");
}

TEST_CASE("sha256 and base36 match known values") {
  // sha256("") is a published constant.
  CHECK(HexEncode(Sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Base36(std::string("\x00\x00", 2)) == "0");
  CHECK(Base36(std::string("\x01\x00", 2)) == "74");  // 256 = 7*36 + 4
  CHECK(Base36("\xff") == "73");                      // 255 = 7*36 + 3
}

TEST_CASE("base64 round trip and malformed input") {
  for (const std::string& s :
       std::initializer_list<std::string>{"", "a", "ab", "abc", "abcd", std::string("\x00\xff\x10", 3)}) {
    std::string out;
    REQUIRE(Base64Decode(Base64Encode(s), out));
    CHECK(out == s);
  }
  std::string out;
  CHECK_FALSE(Base64Decode("abc", out));   // not a multiple of 4
  CHECK_FALSE(Base64Decode("ab=c", out));  // padding in the middle
  CHECK_FALSE(Base64Decode("a b=", out));  // whitespace
  CHECK_FALSE(Base64Decode("a*b=", out));  // alphabet
  CHECK(Base64Decode("aGk=", out));
  CHECK(out == "hi");
}

TEST_CASE("UTF-8 checks, quoting of foreign bytes and JSON depth") {
  CHECK(IsUtf8("plain ascii"));
  CHECK(IsUtf8("gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80"));
  CHECK_FALSE(IsUtf8("\xFF"));
  CHECK_FALSE(IsUtf8("\xC3\x28"));          // bad continuation
  CHECK_FALSE(IsUtf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(IsUtf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(IsUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(IsUtf8("\xE2\x82"));          // truncated
  CHECK(Quote("a\xFF"
              "b") == "\"a\\xffb\"");
  CHECK(ValidUtf8("a\xFF"
                  "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(IsUtf8(ValidUtf8("\xC3\x28\xF0")));
  CHECK_FALSE(JsonTooDeep(R"({"a":[[1]]})", 3));
  CHECK(JsonTooDeep(R"({"a":[[[1]]]})", 3));
  CHECK_FALSE(JsonTooDeep(R"({"a":"[[[[[[\"[[["})", 2));  // brackets inside strings do not count
  CHECK(JsonTooDeep(std::string(kMaxJsonDepth + 1, '[')));
  CHECK_FALSE(JsonTooDeep(std::string(kMaxJsonDepth, '[')));
}

}  // namespace
}  // namespace tmcd
