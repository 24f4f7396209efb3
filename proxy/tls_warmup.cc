// What the warm-up makes and throws away: one client context (OpenSSL's configuration, providers,
// ciphers and digests) and one P-256 key (the EC code a job's CA and leaf keys use).
#include "proxy/tls_warmup.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

namespace nixjail::proxy {

namespace {

void warmUp() {
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr);
    if (SSL_CTX* context = SSL_CTX_new(TLS_client_method())) SSL_CTX_free(context);
    if (EVP_PKEY* key = EVP_EC_gen("P-256")) EVP_PKEY_free(key);
    // A failure here is met again, and reported, where the real context or key is made.
    ERR_clear_error();
}

}  // namespace

TlsWarmup::TlsWarmup() : thread_(warmUp) {}

TlsWarmup::~TlsWarmup() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace nixjail::proxy
