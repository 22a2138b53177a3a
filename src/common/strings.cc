#include "common/strings.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

namespace tmcd {

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string ToLower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(static_cast<unsigned char>(c) >> 4U) & 0xfU];
          out += kHex[static_cast<unsigned char>(c) & 0xfU];
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string Quote(std::string_view s) {
  return "\"" + JsonEscape(s) + "\"";
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4U];
    out += kDigits[c & 0xfU];
  }
  return out;
}

std::string Sha256(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string Base36(std::string_view bytes) {
  // Repeated division of the big-endian number by 36.
  std::vector<uint8_t> num(bytes.begin(), bytes.end());
  std::string out;
  while (std::any_of(num.begin(), num.end(), [](uint8_t b) { return b != 0; })) {
    unsigned rem = 0;
    for (auto& b : num) {
      unsigned cur = (rem << 8U) | b;
      b = static_cast<uint8_t>(cur / 36);
      rem = cur % 36;
    }
    out += "0123456789abcdefghijklmnopqrstuvwxyz"[rem];
  }
  if (out.empty()) out.push_back('0');  // push_back: GCC 12 -Wrestrict false positive on = "0"
  std::reverse(out.begin(), out.end());
  return out;
}

bool Base64Decode(std::string_view in, std::string& out) {
  if (in.size() % 4 != 0) return false;
  for (char c : in) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '/' && c != '=') return false;
  }
  size_t pad = 0;
  while (pad < in.size() && pad < 2 && in[in.size() - 1 - pad] == '=') ++pad;
  if (in.substr(0, in.size() - pad).find('=') != std::string_view::npos) return false;
  std::string buf(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(buf.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return false;
  buf.resize(static_cast<size_t>(n) - pad);
  out = std::move(buf);
  return true;
}

std::string Base64Encode(std::string_view in) {
  std::string buf(((in.size() + 2) / 3) * 4 + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(buf.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  buf.resize(static_cast<size_t>(n));
  return buf;
}

}  // namespace tmcd
