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
std::string Quote(std::string_view s);
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
