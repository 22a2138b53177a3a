#include "apis/meta/names.h"

#include <cctype>

#include "common/strings.h"

namespace tmcd::apis {
namespace {

bool IsAlnumLower(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool MatchesLabel(std::string_view s) {
  if (s.empty() || !IsAlnumLower(s.front()) || !IsAlnumLower(s.back())) return false;
  for (char c : s) {
    if (!IsAlnumLower(c) && c != '-') return false;
  }
  return true;
}

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?
bool MatchesQualifiedNamePart(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

constexpr std::string_view kLabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name', or '123-abc')";
constexpr std::string_view kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com')";
constexpr std::string_view kQualifiedMsg =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')";

}  // namespace

std::vector<std::string> CheckDNS1123Label(std::string_view s) {
  std::vector<std::string> out;
  if (s.size() > 63) out.emplace_back("must be no more than 63 characters");
  if (!MatchesLabel(s)) out.emplace_back(kLabelMsg);
  return out;
}

std::vector<std::string> CheckDNS1123Subdomain(std::string_view s) {
  std::vector<std::string> out;
  if (s.size() > 253) out.emplace_back("must be no more than 253 characters");
  bool ok = !s.empty();
  for (const auto& part : Split(s, '.')) ok = ok && MatchesLabel(part);
  if (!ok) out.emplace_back(kSubdomainMsg);
  return out;
}

std::vector<std::string> CheckQualifiedName(std::string_view s) {
  std::vector<std::string> out;
  std::string_view name = s;
  auto slash = s.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = s.substr(0, slash);
    name = s.substr(slash + 1);
    if (prefix.empty()) {
      out.emplace_back("prefix part must be non-empty");
    } else {
      for (auto& m : CheckDNS1123Subdomain(prefix)) out.push_back("prefix part " + m);
    }
    if (name.find('/') != std::string_view::npos) {
      out.emplace_back(
          "a qualified name must consist of alphanumeric characters, '-', '_' or '.', with an optional DNS "
          "subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return out;
    }
  }
  if (name.empty()) {
    out.emplace_back("name part must be non-empty");
  } else {
    if (name.size() > 63) out.emplace_back("name part must be no more than 63 characters");
    if (!MatchesQualifiedNamePart(name)) out.emplace_back(kQualifiedMsg);
  }
  return out;
}

std::vector<std::string> CheckLabelValue(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  if (s.size() > 63) out.emplace_back("must be no more than 63 characters");
  if (!MatchesQualifiedNamePart(s)) {
    out.emplace_back(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345')");
  }
  return out;
}

std::vector<std::string> CheckServerURL(std::string_view s, bool allow_http) {
  std::string_view rest;
  if (StartsWith(s, "https://")) {
    rest = s.substr(8);
  } else if (StartsWith(s, "http://")) {
    if (!allow_http) return {"must be an https URL (http only with insecureSkipTLSVerify)"};
    rest = s.substr(7);
  } else {
    return {"must be an https URL"};
  }
  std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty() || host.front() == ':') return {"must include a host"};
  for (char c : host) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == '@') return {"host must not contain spaces or '@'"};
  }
  if (rest.find_first_of("?#") != std::string_view::npos) return {"must not contain a query or fragment"};
  return {};
}

}  // namespace tmcd::apis
