// makeRuntimeToken: header.payload.random, each part base64url.
#include "runner/artifact_server/runtime_token.h"

#include <nlohmann/json.hpp>

#include "runner/base/random_bytes.h"

namespace nixjail::runner::artifact_server {

std::string base64Url(std::string_view bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char c : bytes) {
        acc = (acc << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(acc >> bits) & 0x3f];
        }
    }
    if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3f];
    return out;
}

std::string makeRuntimeToken(const std::string& run_id) {
    unsigned char random[32];
    base::randomBytes(random, sizeof random);
    const nlohmann::json header{{"typ", "JWT"}, {"alg", "HS256"}};
    const std::string job(kExecJobBackendId);
    const nlohmann::json payload{
        {"iss", "nixjail-runner"},
        {"scp", "Actions.GenericRead:" + run_id + " Actions.Results:" + run_id + ":" + job},
        {"run_id", run_id}};
    return base64Url(header.dump()) + "." + base64Url(payload.dump()) + "." +
           base64Url(std::string_view(reinterpret_cast<const char*>(random), sizeof random));
}

}  // namespace nixjail::runner::artifact_server
