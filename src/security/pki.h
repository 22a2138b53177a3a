#pragma once
// tmcd's own small PKI (docs/security.md "Certificates"): a CA made on first start, the serving
// certificate it signs for the configured host names, and client certificates issued by
// `tmcd kubeconfig` (CN = user, O = groups, the kube-apiserver's x509 convention). Keys are EC P-256;
// every private key file is written 0600 through a temporary file and rename, so a reader never
// sees half a key. Pure apart from the files named; thread-compatible.

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace tmcd::security {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

struct CertSpec {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> hosts;  // subjectAltNames: IP addresses and DNS names
  bool server = false;             // extendedKeyUsage serverAuth
  bool client = false;             // extendedKeyUsage clientAuth
  std::chrono::hours validity{24 * 365};
};

// A self-signed CA certificate and its key.
Result<KeyPair> CreateCa(const std::string& common_name, std::chrono::hours validity);
// A leaf certificate signed by `ca`, with a fresh key.
Result<KeyPair> Issue(const KeyPair& ca, const CertSpec& spec);

// What a certificate says, for renewal decisions, logs and tests.
struct CertInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> hosts;  // DNS and IP subjectAltNames, as text
  std::chrono::system_clock::time_point not_after;
};
Result<CertInfo> Inspect(const std::string& cert_pem);

// The files of the PKI under `dir` (normally <dataDir>/pki).
struct PkiPaths {
  std::string dir;
  std::string CaCert() const { return dir + "/ca.crt"; }
  std::string CaKey() const { return dir + "/ca.key"; }
  std::string ServingCert() const { return dir + "/serving.crt"; }
  std::string ServingKey() const { return dir + "/serving.key"; }
};

// Makes sure `dir` holds a CA and a serving certificate for `hosts` valid for at least 30 more
// days: creates what is missing, re-issues the serving certificate when its hosts differ or it
// expires soon (the CA is kept, so issued client certificates stay valid). Returns a line for the
// log saying what it did ("" when nothing changed). Empty `hosts`: the CA only.
Result<std::string> EnsureServingPki(const PkiPaths& paths, const std::vector<std::string>& hosts);

// Reads a whole file (errors name it).
Result<std::string> ReadFileText(const std::string& path);
// Writes `content` to `path` with `mode` through a temporary file, fsync and rename.
Status WriteFileAtomic(const std::string& path, const std::string& content, unsigned mode);

}  // namespace tmcd::security
