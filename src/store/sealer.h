#pragma once
// Sealing: the JSON of some objects (Secrets) is encrypted before it reaches RocksDB, in the objects
// and in the events column family alike, and opened again when read (docs/storage-format.md
// "Sealed values", docs/security.md "Secrets at rest"). The store only knows this interface; the
// key material and the cipher live in src/security/sealer.h. Implementations must be thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"

namespace tmcd::store {

// Every sealed value starts with this; anything else is plaintext JSON.
inline constexpr std::string_view kSealedPrefix = "tmcd:enc:";
inline bool IsSealed(std::string_view value) {
  return value.substr(0, kSealedPrefix.size()) == kSealedPrefix;
}

class Sealer {
 public:
  virtual ~Sealer() = default;
  // Whether values under this encoded object key are sealed when written.
  virtual bool Applies(std::string_view encoded_key) const = 0;
  // Seals `plaintext`; the encoded key is authenticated with it, so a sealed value moved to another
  // key does not open.
  virtual Result<std::string> Seal(std::string_view encoded_key, std::string_view plaintext) const = 0;
  virtual Result<std::string> Open(std::string_view encoded_key, std::string_view sealed) const = 0;
  // Whether `sealed` was sealed with the key that seals new writes.
  virtual bool Current(std::string_view sealed) const = 0;
};

}  // namespace tmcd::store
