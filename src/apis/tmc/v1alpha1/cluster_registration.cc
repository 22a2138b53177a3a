#include "apis/tmc/v1alpha1/cluster_registration.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <set>

#include "apis/meta/names.h"
#include "common/strings.h"

namespace tmcd::apis::v1alpha1 {
namespace {

// Every PEM block must be an X.509 certificate that OpenSSL can parse; at least one is required.
std::string CheckPemBundle(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  int count = 0;
  while (true) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    X509_free(cert);
    ++count;
  }
  unsigned long err = ERR_peek_last_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (count == 0) return "must contain at least one PEM-encoded X.509 certificate";
  if (err != 0 && ERR_GET_REASON(err) != PEM_R_NO_START_LINE) return "contains a malformed PEM certificate block";
  if (pem.find("-----BEGIN", pem.rfind("-----END CERTIFICATE-----")) != std::string::npos) {
    return "contains a PEM block that is not a certificate";
  }
  return "";
}

}  // namespace

void CheckRules(const ClusterEndpoint& e, const std::string& path, FieldErrors& errs) {
  if (!e.server.empty()) {
    for (const auto& msg : CheckServerURL(e.server, e.insecure_skip_tls_verify)) {
      errs.Invalid(JoinPath(path, "server"), Quote(e.server), msg);
    }
  }
  if (!e.ca_bundle.empty()) {
    const std::string p = JoinPath(path, "caBundle");
    std::string pem;
    if (e.insecure_skip_tls_verify) {
      errs.Forbidden(p, "may not be set together with insecureSkipTLSVerify");
    } else if (!Base64Decode(e.ca_bundle, pem)) {
      errs.Invalid(p, "<bytes>", "must be standard base64 (padded, no whitespace)");
    } else if (std::string why = CheckPemBundle(pem); !why.empty()) {
      errs.Invalid(p, "<bytes>", why);
    }
  }
  if (!e.tls_server_name.empty()) {
    for (const auto& msg : CheckDNS1123Subdomain(e.tls_server_name)) {
      errs.Invalid(JoinPath(path, "tlsServerName"), Quote(e.tls_server_name), msg);
    }
  }
}

void CheckRules(const SecretReference& r, const std::string& path, FieldErrors& errs) {
  if (!r.namespace_.empty()) {
    for (const auto& msg : CheckDNS1123Label(r.namespace_)) {
      errs.Invalid(JoinPath(path, "namespace"), Quote(r.namespace_), msg);
    }
  }
  if (!r.name.empty()) {
    for (const auto& msg : CheckDNS1123Subdomain(r.name)) errs.Invalid(JoinPath(path, "name"), Quote(r.name), msg);
  }
}

void CheckRules(const Taint& t, const std::string& path, FieldErrors& errs) {
  if (!t.key.empty()) {
    for (const auto& msg : CheckQualifiedName(t.key)) errs.Invalid(JoinPath(path, "key"), Quote(t.key), msg);
  }
  for (const auto& msg : CheckLabelValue(t.value)) errs.Invalid(JoinPath(path, "value"), Quote(t.value), msg);
}

void CheckRules(const HealthCheck& h, const std::string& path, FieldErrors& errs) {
  if (h.timeout_seconds > 0 && h.period_seconds > 0 && h.timeout_seconds > h.period_seconds) {
    errs.Invalid(JoinPath(path, "timeoutSeconds"), std::to_string(h.timeout_seconds),
                 "must not exceed periodSeconds (" + std::to_string(h.period_seconds) + ")");
  }
}

void CheckRules(const ClusterRegistrationSpec& s, const std::string& path, FieldErrors& errs) {
  std::set<std::string> taints;
  for (size_t i = 0; i < s.taints.size(); ++i) {
    const auto& t = s.taints[i];
    if (!taints.insert(t.key + ":" + t.effect).second) {
      errs.Duplicate(IndexPath(JoinPath(path, "taints"), i), Quote(t.key + ":" + t.effect));
    }
  }
  const std::string cap = JoinPath(path, "capacity");
  for (const auto& [name, q] : s.capacity) {
    for (const auto& msg : CheckQualifiedName(name)) errs.Invalid(cap, Quote(name), msg);
  }
  CheckGroupResources(s.synced_resources, JoinPath(path, "syncedResources"), errs);
}

void CheckRules(const ClusterRegistrationStatus& s, const std::string& path, FieldErrors& errs) {
  CheckConditionList(s.conditions, JoinPath(path, "conditions"), errs);
}

void CheckRules(const ClusterRegistration& c, const std::string& path, FieldErrors& errs) {
  CheckTypeMeta(c.api_version, c.kind, "ClusterRegistration", path, errs);
  CheckObjectName(c.metadata, /*label_rule=*/true, JoinPath(path, "metadata"), errs);
}

}  // namespace tmcd::apis::v1alpha1
