#include "store/codec.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "common/strings.h"

namespace tmcd::store {
namespace {

TEST_CASE("golden bytes: object key, object envelope, event record") {
  ObjectKey k{"root:org", "apps", "deployments", "shop", "web"};
  CHECK(HexEncode(EncodeKey(k)) == HexEncode(std::string("root:org\0apps\0deployments\0shop\0web", 34)));
  CHECK(DecodeKey(EncodeKey(k)).value() == k);
  CHECK(HexEncode(EncodeKey({"root", "", "namespaces", "", "a"})) == "726f6f7400006e616d65737061636573000061");

  StoredObject o{1, 0x0102030405060708ULL,
                 std::string("\xaa\xbb\xcc\xdd\xee\xff\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99", 16), R"({"a":1})"};
  CHECK(HexEncode(EncodeObject(o)) ==
        "01"                                // format
        "0000000000000001"                  // createRev
        "0102030405060708"                  // modRev
        "aabbccddeeff00112233445566778899"  // uid
        "7b2261223a317d");                  // JSON
  CHECK(DecodeObject(EncodeObject(o)).value() == o);

  Event e{7, EventType::kModified, 0x10, EncodeKey({"w", "", "r", "", "n"}), o};
  std::string raw = EncodeEvent(e);
  CHECK(HexEncode(raw.substr(0, 13)) ==
        "02"
        "0000000000000010"
        "00000007");  // key "w\0\0r\0\0n" is 7 bytes
  auto back = DecodeEvent(7, raw);
  REQUIRE(back.ok());
  CHECK(back->type == EventType::kModified);
  CHECK(back->key == e.key);
  CHECK(back->object == o);
  CHECK(HexEncode(RevisionKey(258)) == "0000000000000102");
  CHECK(UidString(o.uid) == "aabbccdd-eeff-0011-2233-445566778899");
  CHECK(ParseUid("aabbccdd-eeff-0011-2233-445566778899") == o.uid);
  CHECK(ParseUid("AABBCCDDEEFF00112233445566778899") == o.uid);
  CHECK_FALSE(ParseUid("aabbccdd-eeff-0011-2233-4455667788").has_value());
  CHECK_FALSE(ParseUid("zabbccdd-eeff-0011-2233-445566778899").has_value());
  CHECK_FALSE(ParseUid("aabbccdd-eeff-0011-2233-4455667788990").has_value());
}

TEST_CASE("keys sort by workspace, group, resource, namespace, name; prefixes select exactly") {
  std::vector<std::string> keys = {
      EncodeKey({"a", "apps", "deployments", "ns", "x"}), EncodeKey({"a", "apps", "deployments", "ns-2", "a"}),
      EncodeKey({"a", "apps", "deployments", "ns", "y"}), EncodeKey({"a-b", "apps", "deployments", "ns", "a"})};
  std::sort(keys.begin(), keys.end());
  CHECK(DecodeKey(keys[0])->name == "x");
  CHECK(DecodeKey(keys[1])->name == "y");
  CHECK(DecodeKey(keys[2])->namespace_ == "ns-2");
  CHECK(DecodeKey(keys[3])->workspace == "a-b");
  // "ns" must not select "ns-2"; workspace "a" must not select "a-b".
  std::string p = NamespacePrefix("a", "apps", "deployments", "ns");
  CHECK(std::count_if(keys.begin(), keys.end(), [&](const std::string& k) { return k.rfind(p, 0) == 0; }) == 2);
  std::string w = ResourcePrefix("a", "apps", "deployments");
  CHECK(std::count_if(keys.begin(), keys.end(), [&](const std::string& k) { return k.rfind(w, 0) == 0; }) == 3);
}

TEST_CASE("corrupt records are errors, not crashes") {
  CHECK_FALSE(DecodeObject("short").ok());
  CHECK_FALSE(DecodeObject(std::string(33, '\x09')).ok());  // unknown format byte
  CHECK_FALSE(DecodeEvent(1, "x").ok());
  CHECK_FALSE(DecodeEvent(1, std::string("\x09", 1) + std::string(12, '\0')).ok());
  std::string bad_len = std::string("\x01", 1) + std::string(8, '\0') + std::string("\x00\x00\x01\x00", 4);
  CHECK_FALSE(DecodeEvent(1, bad_len).ok());
  CHECK_FALSE(DecodeKey(std::string_view("a\0b", 3)).ok());
  CHECK_FALSE(CheckKey({"ws", "", "r", "", std::string("a\0b", 3)}).ok());
  CHECK_FALSE(CheckKey({"", "", "r", "", "n"}).ok());
}

}  // namespace
}  // namespace tmcd::store
