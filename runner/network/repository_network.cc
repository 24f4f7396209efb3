// Reading a repository's .nixjail-network.yaml and adding it to a job's network settings.
#include "runner/network/repository_network.h"

#include <yaml-cpp/yaml.h>

#include <sys/stat.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"

namespace nixjail::runner::network {

namespace {

constexpr std::uintmax_t kMaxFileBytes = 64 * 1024;

std::string at(const std::string& source, const YAML::Node& node) {
    const YAML::Mark m = node.Mark();
    if (m.is_null()) return source;
    return source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

void parseSecretHosts(const YAML::Node& node, const std::string& source, SecretHosts& out,
                      std::vector<std::string>& problems) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
        problems.push_back(at(source, node) + ": 'secret_hosts' must map secret names to lists of hosts");
        return;
    }
    for (const auto& item : node) {
        const std::string name = item.first.as<std::string>("");
        if (!item.second.IsSequence() || item.second.size() == 0) {
            problems.push_back(at(source, item.second) + ": secret '" + name +
                               "' needs a list of hosts, e.g. [registry.npmjs.org]");
            continue;
        }
        SecretBinding binding{.hosts = {}, .in_bodies = false, .origin = source};
        for (const auto& host : item.second) {
            if (!host.IsScalar() || host.Scalar().empty()) {
                problems.push_back(at(source, host) + ": a host of secret '" + name + "' must be a name or a glob");
                continue;
            }
            binding.hosts.push_back(host.Scalar());
        }
        out[name] = std::move(binding);
    }
}

}  // namespace

RepositoryNetwork parseRepositoryNetwork(std::string_view yaml, const std::string& source) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        throw base::Error(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                          std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    RepositoryNetwork out;
    std::vector<std::string> problems;
    if (!root.IsMap()) {
        if (!root.IsNull()) problems.push_back(at(source, root) + ": expected a mapping with 'rules' and/or 'secret_hosts'");
    } else {
        for (const auto& kv : root) {
            const std::string key = kv.first.as<std::string>("");
            if (key == "secret_hosts") parseSecretHosts(kv.second, source, out.secret_hosts, problems);
            else if (key != "rules")
                problems.push_back(at(source, kv.first) + ": unknown key '" + key + "'; expected rules or secret_hosts");
        }
        if (root["rules"]) {
            auto policy = proxy::parsePolicy(yaml, source, "repository", {"secret_hosts"});
            if (policy) {
                out.rules = std::move(*policy);
            } else {
                for (const auto& e : policy.error()) {
                    if (std::string(e.what()).find("unknown policy key") == std::string::npos) problems.push_back(e.what());
                }
            }
        }
    }
    if (problems.empty()) return out;
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p;
    throw base::Error(problems.size() == 1 ? all
                                           : std::to_string(problems.size()) + " problems in " + source + ":\n" + all);
}

std::optional<RepositoryNetwork> readRepositoryNetwork(const std::filesystem::path& tree,
                                                       const std::string& shown_as) {
    const auto path = tree / kRepositoryNetworkFile;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::nullopt;
        throw base::SysError("reading " + shown_as);
    }
    if (!S_ISREG(st.st_mode)) {
        throw base::Error(shown_as + " is not a regular file; write the network rules into the file itself");
    }
    if (static_cast<std::uintmax_t>(st.st_size) > kMaxFileBytes) {
        throw base::Error(shown_as + " has " + std::to_string(st.st_size) +
                          " bytes; a network file may have at most 64 KiB");
    }
    return parseRepositoryNetwork(base::readFile(path), shown_as);
}

std::vector<std::string> applyRepositoryNetwork(RepositoryNetwork repo, NetworkSettings& settings) {
    std::vector<std::string> notes;
    if (repo.rules) {
        settings.job_policy = std::move(*repo.rules);
        notes.push_back("the repository's network rules narrow the policy (" +
                        std::string(kRepositoryNetworkFile) + ")");
    }
    for (auto& [name, binding] : repo.secret_hosts) {
        if (settings.secret_hosts.contains(name)) {
            notes.push_back("secret " + name + ": the runner's binding stands; " + binding.origin +
                            " cannot rebind it");
            continue;
        }
        binding.in_bodies = false;
        settings.secret_hosts.emplace(name, std::move(binding));
    }
    return notes;
}

}  // namespace nixjail::runner::network
