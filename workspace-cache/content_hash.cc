// SHA-256 through OpenSSL's one-shot EVP digest.
#include "workspace-cache/content_hash.h"

#include <openssl/evp.h>

#include "runner/base/error.h"

namespace nixjail::cache {

std::string sha256Hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
        throw base::Error("cannot compute SHA-256: OpenSSL EVP_Digest failed");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 15];
    }
    return out;
}

}  // namespace nixjail::cache
