#include "security/sealer.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <ctime>

#include "common/strings.h"
#include "security/pki.h"

namespace tmcd::security {
namespace {

constexpr std::string_view kPrefix = "tmcd:enc:aesgcm:v1:";
constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;
constexpr size_t kKey = 32;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());  // NOLINT: OpenSSL takes bytes
}

// AES-256-GCM: nonce || ciphertext || tag.
Result<std::string> Encrypt(std::string_view key, std::string_view plain, std::string_view aad) {
  std::string out(kNonce + plain.size() + kTag, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());  // NOLINT: OpenSSL writes bytes
  if (RAND_bytes(p, kNonce) != 1) return Internal("no random bytes for a nonce");
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  bool ok = EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key), p) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &n, U(aad), static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), p + kNonce, &n, U(plain), static_cast<int>(plain.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), p + kNonce + n, &n) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, p + kNonce + plain.size()) == 1;
  if (!ok) return Internal("AES-256-GCM encryption failed");
  return out;
}

Result<std::string> Decrypt(std::string_view key, std::string_view sealed, std::string_view aad) {
  if (sealed.size() < kNonce + kTag) return Invalid("sealed value too short");
  const size_t len = sealed.size() - kNonce - kTag;
  std::string out(len, '\0');
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  std::string tag(sealed.substr(kNonce + len));
  int n = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());  // NOLINT: OpenSSL writes bytes
  bool ok = EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key), U(sealed)) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &n, U(aad), static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), o, &n, U(sealed.substr(kNonce)), static_cast<int>(len)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), o + n, &n) == 1;
  if (!ok) return Invalid("authentication failed (wrong key, or the value was altered)");
  return out;
}

std::string NewSecret() {
  std::string s(kKey, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), kKey);  // NOLINT: OpenSSL writes bytes
  return s;
}

std::string KeyName() {
  std::array<char, 32> buf{};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(buf.data(), buf.size(), "key-%Y%m%dT%H%M%SZ", &tm);
  return buf.data();
}

std::string Render(const std::vector<std::pair<std::string, std::string>>& keys) {
  std::string out =
      "# tmcd Secret encryption keys (docs/security.md). The first key encrypts; every key decrypts.\n"
      "# Keep this file 0600 and away from backups of the data directory.\nkeys:\n";
  for (const auto& [name, secret] : keys) out += "- name: " + name + "\n  secret: " + Base64Encode(secret) + "\n";
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ReadKeys(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status(Reason::kNotFound, "encryption key file " + path + " not found");
  if ((st.st_mode & 077) != 0) {
    return Invalid("encryption key file " + path + " must be readable by its owner only (chmod 600 it)");
  }
  TMCD_ASSIGN_OR_RETURN(std::string text, ReadFileText(path));
  std::vector<std::pair<std::string, std::string>> keys;
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root["keys"] || !root["keys"].IsSequence() || root["keys"].size() == 0) {
      return Invalid("encryption key file " + path + ": want `keys:` with at least one {name, secret}");
    }
    for (const auto& k : root["keys"]) {
      const std::string name = k["name"] ? k["name"].as<std::string>() : "";
      std::string secret;
      if (name.empty() || name.find(':') != std::string::npos) {
        return Invalid("encryption key file " + path + ": every key needs a name without ':'");
      }
      if (!k["secret"] || !Base64Decode(k["secret"].as<std::string>(), secret) || secret.size() != kKey) {
        return Invalid("encryption key file " + path + ": key " + Quote(name) + ": secret must be 32 bytes, base64");
      }
      for (const auto& [n, s] : keys) {
        if (n == name) return Invalid("encryption key file " + path + ": key " + Quote(name) + " appears twice");
      }
      keys.emplace_back(name, secret);
    }
  } catch (const YAML::Exception& e) {
    return Invalid("encryption key file " + path + ": " + e.what());
  }
  return keys;
}

}  // namespace

Result<std::shared_ptr<KeyFileSealer>> KeyFileSealer::Load(const std::string& path) {
  TMCD_ASSIGN_OR_RETURN(auto keys, ReadKeys(path));
  auto out = std::make_shared<KeyFileSealer>();
  out->current_ = keys.front().first;
  for (auto& [name, secret] : keys) out->keys_.emplace(name, std::move(secret));
  return out;
}

Status KeyFileSealer::Create(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return Status(Reason::kAlreadyExists, path + " exists");
  return WriteFileAtomic(path, Render({{KeyName(), NewSecret()}}), 0600);
}

Result<std::string> KeyFileSealer::AddKey(const std::string& path) {
  TMCD_ASSIGN_OR_RETURN(auto keys, ReadKeys(path));
  std::string name = KeyName();
  for (const auto& [n, s] : keys) {
    if (n == name) name += "-2";
  }
  keys.insert(keys.begin(), {name, NewSecret()});
  TMCD_TRY(WriteFileAtomic(path, Render(keys), 0600));
  return name;
}

std::vector<std::string> KeyFileSealer::names() const {
  std::vector<std::string> out;
  for (const auto& [n, s] : keys_) out.push_back(n);
  return out;
}

bool KeyFileSealer::Applies(std::string_view encoded_key) const {
  // ws \0 group \0 resource \0 ...: core Secrets.
  const auto a = encoded_key.find('\0');
  if (a == std::string_view::npos || a + 1 >= encoded_key.size() || encoded_key[a + 1] != '\0') return false;
  return encoded_key.substr(a + 2, 7) == "secrets" && encoded_key.size() > a + 9 && encoded_key[a + 9] == '\0';
}

Result<std::string> KeyFileSealer::Seal(std::string_view encoded_key, std::string_view plaintext) const {
  const std::string& kek = keys_.find(current_)->second;
  const std::string dek = NewSecret();
  TMCD_ASSIGN_OR_RETURN(std::string wrapped, Encrypt(kek, dek, "tmcd-dek:" + current_));
  TMCD_ASSIGN_OR_RETURN(std::string body, Encrypt(dek, plaintext, encoded_key));
  return std::string(kPrefix) + current_ + ":" + wrapped + body;
}

Result<std::string> KeyFileSealer::Open(std::string_view encoded_key, std::string_view sealed) const {
  if (sealed.substr(0, kPrefix.size()) != kPrefix) return Invalid("not a sealed value of a known format");
  sealed.remove_prefix(kPrefix.size());
  const auto colon = sealed.find(':');
  if (colon == std::string_view::npos) return Invalid("sealed value without a key name");
  const std::string name(sealed.substr(0, colon));
  auto it = keys_.find(name);
  if (it == keys_.end()) return Invalid("sealed with key " + Quote(name) + ", which the key file does not hold");
  sealed.remove_prefix(colon + 1);
  const size_t wrapped_len = kNonce + kKey + kTag;
  if (sealed.size() < wrapped_len + kNonce + kTag) return Invalid("sealed value too short");
  auto dek = Decrypt(it->second, sealed.substr(0, wrapped_len), "tmcd-dek:" + name);
  if (!dek.ok()) return Invalid("key " + Quote(name) + ": " + dek.status().message());
  auto plain = Decrypt(*dek, sealed.substr(wrapped_len), encoded_key);
  if (!plain.ok()) return Invalid("key " + Quote(name) + ": " + plain.status().message());
  return plain;
}

bool KeyFileSealer::Current(std::string_view sealed) const {
  return sealed.substr(0, kPrefix.size()) == kPrefix &&
         sealed.substr(kPrefix.size(), current_.size() + 1) == current_ + ":";
}

}  // namespace tmcd::security
