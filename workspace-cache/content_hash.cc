// SHA-256 through OpenSSL's direct SHA256_* calls. A process's first EVP digest loads OpenSSL's
// configuration and builds the default provider's table of every digest (about 0.5 ms of CPU
// here); these keys are computed on the way to every job's cached root, before anything else
// of the process needs EVP. The direct calls compute at once (same digest, same code).
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "workspace-cache/content_hash.h"

#include <openssl/sha.h>

#include "runner/base/error.h"

namespace nixjail::cache {

std::string sha256Hex(std::string_view data) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256_CTX ctx;
    if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data.data(), data.size()) != 1 ||
        SHA256_Final(md, &ctx) != 1) {
        throw base::Error("cannot compute SHA-256 (OpenSSL SHA256_*)");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(sizeof md * 2);
    for (unsigned char b : md) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

}  // namespace nixjail::cache
