#pragma once
// Small string helpers shared by every layer. Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace tmcd {

std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view Trim(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
std::string ToLower(std::string_view s);
// JSON string escaping without the surrounding quotes (\" \\ \n \r \t, other controls as \u00XX).
std::string JsonEscape(std::string_view s);
// "s" quoted and escaped as above: how error messages show user-supplied strings (like Go's %q).
// Bytes that are not UTF-8 appear as \xNN, so the message is always valid text.
std::string Quote(std::string_view s);
// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsUtf8(std::string_view s);
// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD: for text a peer sent
// (an error body) that ends up in a message.
std::string ValidUtf8(std::string_view s);

// The deepest nesting of arrays and objects tmcd accepts in any JSON document it parses (API bodies
// and patches, cluster and kcp responses, watch events, audit copies). Serializing and walking JSON
// recurse once per level, so an unbounded depth is a stack overflow (docs/reliability.md).
inline constexpr size_t kMaxJsonDepth = 1000;
// True when `json` nests arrays/objects deeper than `max_depth` (strings are skipped correctly; the
// text need not be valid JSON). One linear pass, no allocation.
bool JsonTooDeep(std::string_view json, size_t max_depth = kMaxJsonDepth);
// Lowercase hex of bytes.
std::string HexEncode(std::string_view bytes);
// SHA-256 digest of `data` (32 raw bytes).
std::string Sha256(std::string_view data);
// Base36 (0-9a-z) of a big-endian byte string, most significant digit first, no leading zeros
// beyond the value's own.
std::string Base36(std::string_view bytes);
// Standard base64 decoding; false on malformed input (padding required, whitespace not allowed).
bool Base64Decode(std::string_view in, std::string& out);
std::string Base64Encode(std::string_view in);

}  // namespace tmcd
