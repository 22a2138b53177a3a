#pragma once
// Secrets at rest (docs/security.md "Secrets at rest"): AES-256-GCM envelope encryption of every
// Secret before it reaches RocksDB. Each value gets a fresh 256-bit data key; the data key is
// encrypted with the current key-encryption key from the key file; the object's store key is
// authenticated with the data, so a sealed value copied to another key does not open.
//
//   sealed value = "tmcd:enc:aesgcm:v1:" <key name> ":" nonce(12) wrapped-DEK(32) tag(16)
//                  nonce(12) ciphertext tag(16)
//
// Key file (YAML, mode 0600): `keys: [{name: k2, secret: <base64 of 32 bytes>}, {name: k1, ...}]`;
// the first key seals, every key opens (rotation: add a key first, restart, `tmcd encryption
// rewrite`, then drop the old key). Thread-safe (immutable after Load).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/sealer.h"

namespace tmcd::security {

class KeyFileSealer final : public store::Sealer {
 public:
  // Reads and checks the key file (mode, names, 32-byte secrets). Errors name the file.
  static Result<std::shared_ptr<KeyFileSealer>> Load(const std::string& path);
  // A new key file with one fresh key, written 0600; fails when the file exists.
  static Status Create(const std::string& path);
  // Puts a fresh key first in an existing key file (the others stay, for opening); returns its name.
  static Result<std::string> AddKey(const std::string& path);

  bool Applies(std::string_view encoded_key) const override;
  Result<std::string> Seal(std::string_view encoded_key, std::string_view plaintext) const override;
  Result<std::string> Open(std::string_view encoded_key, std::string_view sealed) const override;
  bool Current(std::string_view sealed) const override;
  const std::string& current_name() const { return current_; }
  std::vector<std::string> names() const;

 private:
  std::string current_;
  std::map<std::string, std::string, std::less<>> keys_;  // name → 32 raw bytes
};

}  // namespace tmcd::security
