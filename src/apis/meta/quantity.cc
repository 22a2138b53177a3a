#include "apis/meta/quantity.h"

#include <array>
#include <cctype>

#include "common/strings.h"

namespace tmcd::apis {
namespace {

constexpr Int128 kNano = 1000000000;
constexpr Int128 kMaxUnits = INT64_MAX;

Int128 Pow(Int128 base, int exp) {
  Int128 r = 1;
  for (int i = 0; i < exp; ++i) r *= base;
  return r;
}

struct Suffix {
  int base;      // 2 or 10
  int exponent;  // power of base
};

bool ParseSuffix(std::string_view s, Suffix& out) {
  static constexpr std::array<std::pair<std::string_view, Suffix>, 16> kSuffixes = {{
      {"", {10, 0}},
      {"n", {10, -9}},
      {"u", {10, -6}},
      {"m", {10, -3}},
      {"k", {10, 3}},
      {"M", {10, 6}},
      {"G", {10, 9}},
      {"T", {10, 12}},
      {"P", {10, 15}},
      {"E", {10, 18}},
      {"Ki", {2, 10}},
      {"Mi", {2, 20}},
      {"Gi", {2, 30}},
      {"Ti", {2, 40}},
      {"Pi", {2, 50}},
      {"Ei", {2, 60}},
  }};
  for (const auto& [name, suf] : kSuffixes) {
    if (s == name) {
      out = suf;
      return true;
    }
  }
  if (s.size() >= 2 && (s[0] == 'e' || s[0] == 'E')) {
    std::string_view e = s.substr(1);
    bool neg = false;
    if (e.front() == '+' || e.front() == '-') {
      neg = e.front() == '-';
      e.remove_prefix(1);
    }
    if (e.empty() || e.size() > 3) return false;
    int v = 0;
    for (char c : e) {
      if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
      v = v * 10 + (c - '0');
    }
    out = {10, neg ? -v : v};
    return true;
  }
  return false;
}

Status Bad(std::string_view s, std::string_view why) {
  return Invalid("quantity " + Quote(s) + " " + std::string(why) +
                 " (want e.g. 500m, 2Gi, 1.5, 1e3: a decimal number with an optional SI or binary suffix)");
}

}  // namespace

Result<Quantity> Quantity::Parse(std::string_view s) {
  std::string_view rest = s;
  bool negative = false;
  if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  // Mantissa: digits [. digits] | . digits; at most 30 significant digits to stay in 128 bits.
  Int128 mantissa = 0;
  int frac_digits = 0;
  int digits = 0;
  bool seen_dot = false;
  size_t i = 0;
  for (; i < rest.size(); ++i) {
    char c = rest[i];
    if (c == '.' && !seen_dot) {
      seen_dot = true;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) break;
    if (digits >= 30) return Bad(s, "has too many digits");
    mantissa = mantissa * 10 + (c - '0');
    ++digits;
    if (seen_dot) ++frac_digits;
  }
  if (digits == 0) return Bad(s, "is not a number");
  Suffix suf{};
  if (!ParseSuffix(rest.substr(i), suf)) return Bad(s, "has an unknown suffix");
  // value = mantissa * 10^-frac * base^exp ; in nanos: * 10^9.
  // Checked before multiplying: 30 digits times 2^60 (Ei) does not fit in 128 bits (found by fuzzing).
  const Int128 binary = suf.base == 2 ? Pow(2, suf.exponent) : 1;
  const Int128 max128 = (Int128{1} << 126U) - 1 + (Int128{1} << 126U);  // 2^127 - 1
  if (mantissa > max128 / binary) return Bad(s, "is too large");
  Int128 num = mantissa * binary;
  int exp10 = 9 - frac_digits + (suf.base == 10 ? suf.exponent : 0);
  Int128 nanos = 0;
  if (exp10 >= 0) {
    if (exp10 > 36) return Bad(s, "is too large");
    Int128 scale = Pow(10, exp10);
    if (num != 0 && num > (kMaxUnits * kNano) / scale) return Bad(s, "is too large");
    nanos = num * scale;
  } else {
    Int128 scale = exp10 < -38 ? 0 : Pow(10, -exp10);
    // Round up, like Kubernetes; divided first so that num + scale cannot overflow.
    nanos = scale == 0 ? (num == 0 ? 0 : 1) : num / scale + (num % scale != 0 ? 1 : 0);
  }
  if (nanos > kMaxUnits * kNano) return Bad(s, "is too large");
  Quantity q;
  q.text_ = std::string(s);
  q.nanos_ = negative ? -nanos : nanos;
  return q;
}

Quantity Quantity::FromMilli(int64_t milli) {
  Quantity q;
  q.nanos_ = static_cast<Int128>(milli) * 1000000;
  q.text_ = milli % 1000 == 0 ? std::to_string(milli / 1000) : std::to_string(milli) + "m";
  return q;
}

Quantity Quantity::FromNanos(Int128 nanos) {
  auto text = [](Int128 v) {
    if (v == 0) return std::string("0");
    const bool neg = v < 0;
    std::string out;
    for (Int128 a = neg ? -v : v; a > 0; a /= 10) out.insert(out.begin(), static_cast<char>('0' + int(a % 10)));
    return neg ? "-" + out : out;
  };
  Quantity q;
  q.nanos_ = nanos;
  if (nanos % 1000000000 == 0) {
    q.text_ = text(nanos / 1000000000);
  } else if (nanos % 1000000 == 0) {
    q.text_ = text(nanos / 1000000) + "m";
  } else {
    q.text_ = text(nanos) + "n";
  }
  return q;
}

int64_t Quantity::MilliValue() const {
  constexpr Int128 kPerMilli = 1000000;
  Int128 v = nanos_ >= 0 ? (nanos_ + kPerMilli - 1) / kPerMilli : nanos_ / kPerMilli;
  return v > INT64_MAX ? INT64_MAX : static_cast<int64_t>(v);
}

int64_t Quantity::Value() const {
  Int128 v = nanos_ >= 0 ? (nanos_ + kNano - 1) / kNano : nanos_ / kNano;
  return static_cast<int64_t>(v);
}

}  // namespace tmcd::apis
