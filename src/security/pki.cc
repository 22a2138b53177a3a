#include "security/pki.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "common/strings.h"

namespace tmcd::security {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string SslError(const std::string& what) {
  const unsigned long e = ERR_get_error();
  std::array<char, 256> buf{};
  if (e != 0) ERR_error_string_n(e, buf.data(), buf.size());
  ERR_clear_error();
  return what + (e != 0 ? ": " + std::string(buf.data()) : "");
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

Result<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Internal(SslError("cannot generate an EC P-256 key"));
  return key;
}

Result<X509Ptr> ParseCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Invalid(SslError("not a PEM certificate"));
  return cert;
}

Result<KeyPtr> ParseKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Invalid(SslError("not a PEM private key"));
  return key;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return Internal(SslError("cannot build extension " + value));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return Status::Ok();
}

std::string AltNames(const std::vector<std::string>& hosts) {
  std::vector<std::string> parts;
  for (const auto& h : hosts) {
    std::array<unsigned char, 16> buf{};
    const bool ip = inet_pton(AF_INET, h.c_str(), buf.data()) == 1 || inet_pton(AF_INET6, h.c_str(), buf.data()) == 1;
    parts.push_back((ip ? "IP:" : "DNS:") + h);
  }
  return Join(parts, ",");
}

Result<KeyPair> Build(const CertSpec& spec, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  TMCD_ASSIGN_OR_RETURN(KeyPtr key, NewKey());
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  std::array<unsigned char, 16> serial{};
  RAND_bytes(serial.data(), static_cast<int>(serial.size()));
  serial[0] &= 0x7f;  // a positive serial
  std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>> bn(BN_bin2bn(serial.data(), serial.size(), nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);  // tolerate a little clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), std::chrono::seconds(spec.validity).count());
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : spec.organizations) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1,
                               0);  // NOLINT: OpenSSL API
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1,  // NOLINT
                             0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  TMCD_TRY(
      AddExtension(cert.get(), signer, NID_basic_constraints, ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE"));
  TMCD_TRY(AddExtension(cert.get(), signer, NID_key_usage,
                        ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment"));
  std::vector<std::string> eku;
  if (spec.server) eku.emplace_back("serverAuth");
  if (spec.client) eku.emplace_back("clientAuth");
  if (!eku.empty()) TMCD_TRY(AddExtension(cert.get(), signer, NID_ext_key_usage, Join(eku, ",")));
  if (!spec.hosts.empty()) TMCD_TRY(AddExtension(cert.get(), signer, NID_subject_alt_name, AltNames(spec.hosts)));
  TMCD_TRY(AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr) TMCD_TRY(AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key.get(), EVP_sha256()) == 0) {
    return Internal(SslError("cannot sign the certificate"));
  }
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return KeyPair{BioText(cert_bio.get()), BioText(key_bio.get())};
}

}  // namespace

Result<KeyPair> CreateCa(const std::string& common_name, std::chrono::hours validity) {
  CertSpec spec;
  spec.common_name = common_name;
  spec.validity = validity;
  return Build(spec, nullptr, nullptr, true);
}

Result<KeyPair> Issue(const KeyPair& ca, const CertSpec& spec) {
  TMCD_ASSIGN_OR_RETURN(X509Ptr ca_cert, ParseCert(ca.cert_pem));
  TMCD_ASSIGN_OR_RETURN(KeyPtr ca_key, ParseKey(ca.key_pem));
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    return Invalid("the CA key does not match the CA certificate");
  }
  return Build(spec, ca_cert.get(), ca_key.get(), false);
}

Result<CertInfo> Inspect(const std::string& cert_pem) {
  TMCD_ASSIGN_OR_RETURN(X509Ptr cert, ParseCert(cert_pem));
  CertInfo out;
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    const ASN1_STRING* d = X509_NAME_ENTRY_get_data(e);
    std::string v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)),  // NOLINT: OpenSSL API
                  static_cast<size_t>(ASN1_STRING_length(d)));
    if (nid == NID_commonName) out.common_name = v;
    if (nid == NID_organizationName) out.organizations.push_back(v);
  }
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    if (g->type == GEN_DNS) {
      out.hosts.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),  // NOLINT
                             static_cast<size_t>(ASN1_STRING_length(g->d.dNSName)));
    } else if (g->type == GEN_IPADD) {
      std::array<char, INET6_ADDRSTRLEN> text{};
      const int len = ASN1_STRING_length(g->d.iPAddress);
      const int family = len == 4 ? AF_INET : AF_INET6;
      if (inet_ntop(family, ASN1_STRING_get0_data(g->d.iPAddress), text.data(), text.size()) != nullptr) {
        out.hosts.emplace_back(text.data());
      }
    }
  }
  GENERAL_NAMES_free(sans);
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) == 1) {
    out.not_after = std::chrono::system_clock::from_time_t(timegm(&tm));
  }
  return out;
}

Result<std::string> ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Reason::kNotFound, "cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Status WriteFileAtomic(const std::string& path, const std::string& content, unsigned mode) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return Internal("cannot write " + tmp + ": " + std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
  bool ok = ::fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Internal("cannot write " + path + ": " + std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
  }
  return Status::Ok();
}

Result<std::string> EnsureServingPki(const PkiPaths& paths, const std::vector<std::string>& hosts) {
  std::error_code ec;
  std::filesystem::create_directories(paths.dir, ec);
  if (ec) return Internal("cannot create " + paths.dir + ": " + ec.message());
  ::chmod(paths.dir.c_str(), 0700);
  std::string did;
  KeyPair ca;
  auto ca_cert = ReadFileText(paths.CaCert());
  auto ca_key = ReadFileText(paths.CaKey());
  if (ca_cert.ok() && ca_key.ok()) {
    ca = {*ca_cert, *ca_key};
  } else {
    TMCD_ASSIGN_OR_RETURN(ca, CreateCa("tmcd-ca@" + std::to_string(std::time(nullptr)), std::chrono::hours(24 * 3650)));
    TMCD_TRY(WriteFileAtomic(paths.CaKey(), ca.key_pem, 0600));
    TMCD_TRY(WriteFileAtomic(paths.CaCert(), ca.cert_pem, 0600));
    did = "created a CA in " + paths.CaCert();
  }
  if (hosts.empty()) return did;  // the serving certificate comes from elsewhere (tls.certFile)
  bool issue = true;
  if (auto cert = ReadFileText(paths.ServingCert()); cert.ok() && ReadFileText(paths.ServingKey()).ok()) {
    auto info = Inspect(*cert);
    const auto soon = std::chrono::system_clock::now() + std::chrono::hours(24 * 30);
    issue = !info.ok() ||
            std::set<std::string>(info->hosts.begin(), info->hosts.end()) !=
                std::set<std::string>(hosts.begin(), hosts.end()) ||
            info->not_after < soon;
  }
  if (!issue) return did;
  CertSpec spec;
  spec.common_name = "tmcd";
  spec.hosts = hosts;
  spec.server = true;
  TMCD_ASSIGN_OR_RETURN(KeyPair serving, Issue(ca, spec));
  TMCD_TRY(WriteFileAtomic(paths.ServingKey(), serving.key_pem, 0600));
  TMCD_TRY(WriteFileAtomic(paths.ServingCert(), serving.cert_pem + ca.cert_pem, 0600));
  return (did.empty() ? "" : did + "; ") + "issued a serving certificate for " + Join(hosts, ", ") + " in " +
         paths.ServingCert();
}

}  // namespace tmcd::security
