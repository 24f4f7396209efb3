// Credentials the proxy injects for jobs, as the admin writes them: `exec --credential-file` and
// the daemon config's `proxy.credentials` use the same keys.
//
//   - name: npm                      # secrets.npm in the job holds the dummy
//     env: NPM_TOKEN                 # the real value: from this variable of the runner ...
//     # file: /run/keys/npm          # ... or from this file (a trailing newline is dropped)
//     hosts: [registry.npmjs.org]    # exact names or globs; injection happens only there, over TLS
//     header: "Authorization: Bearer {token}"
//     dummy: npm-dummy-0123          # at least 8 characters, what the job sees
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/proxy.h"

namespace nixjail::runner::network {

struct CredentialSource {
    std::string name;
    std::string env;  // exactly one of env and file
    std::string file;
    std::vector<std::string> hosts;
    std::string header;  // must contain {token}
    std::string dummy;
    std::string origin;  // "creds.yaml:3:3", for messages
};

// Reads the real value from the variable or file. Throws base::Error naming the credential and
// its source when the value is missing or empty.
proxy::Credential resolveCredential(const CredentialSource& source);

// Parses a YAML list of credentials; throws base::ConfigError (file:line:col) at the first problem.
std::vector<CredentialSource> parseCredentialList(std::string_view yaml, const std::string& source);

// Reads and parses the file (parseCredentialList); throws base::ConfigError.
std::vector<CredentialSource> readCredentialFile(const std::filesystem::path& path);

// readCredentialFile + resolveCredential for each entry.
std::vector<proxy::Credential> loadCredentialFile(const std::filesystem::path& path);

}  // namespace nixjail::runner::network
