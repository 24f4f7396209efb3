// exec's flags into the runner's configuration schema.
#include "runner/cli/exec_config.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/cli/cache_dirs.h"
#include "runner/cli/key_values.h"
#include "runner/network/credential_file.h"
#include "runner/network/secret_placeholder.h"
#include "workspace-cache/closure.h"
#include "workspace-cache/storage.h"

namespace nixjail::runner::cli {

ExecFlags withSavedDefaults(ExecFlags f, const SavedDefaults& saved) {
    auto fill = [](std::string& flag, const std::optional<std::string>& value, const char* builtIn) {
        if (flag.empty()) flag = value.value_or(builtIn);
    };
    fill(f.packages, saved.packages, "");
    fill(f.nixpkgs, saved.nixpkgs, "");
    fill(f.executor, saved.executor, "auto");
    fill(f.profile, saved.profile, "default");
    fill(f.policy, saved.policy, "");
    fill(f.credential_file, saved.credential_file, "");
    fill(f.cache_dir, saved.cache_dir, "");
    // Read first, so that the values of files given with --secret-file win.
    f.secret_files.insert(f.secret_files.begin(), saved.secret_files.begin(), saved.secret_files.end());
    return f;
}

config::RunnerConfig execConfig(const ExecFlags& f, const SavedDefaults& saved) {
    config::RunnerConfig c;
    c.source = "nixjail-runner exec";
    c.executor.backend = f.executor.empty() ? "auto" : f.executor;
    // "jit-runtime" is the old name of what is now the default.
    if (f.profile != "strict" && f.profile != "default" && f.profile != "jit-runtime" && !f.profile.empty())
        throw base::Error("unknown hardening profile '" + f.profile + "'; choose default or strict");
    c.executor.profile = f.profile == "strict" ? "strict" : "default";
    if (!f.disk.empty()) c.executor.disk = parseSize(f.disk, "--disk");
    c.runner.capacity =
        static_cast<int>(f.max_parallel ? f.max_parallel : std::max(2u, std::thread::hardware_concurrency()));

    if (!f.service_images.empty()) {
        // The configuration's own sections, read by its own reader, and nothing else.
        const std::string text = base::readFile(f.service_images);
        YAML::Node top;
        try {
            top = YAML::Load(text);
        } catch (const YAML::Exception& e) {
            throw base::Error("--service-images " + f.service_images + ": invalid YAML: " + e.msg);
        }
        if (top && top.IsMap()) {
            for (const auto& kv : top) {
                const std::string key = kv.first.as<std::string>();
                if (key != "services" && key != "container") {
                    throw base::Error("--service-images " + f.service_images + ": '" + key +
                                      "' is not for this file; it takes the configuration's `services:` and "
                                      "`container:` sections");
                }
            }
        }
        auto parsed = config::parseConfig(text, f.service_images);
        if (!parsed) {
            std::string all;
            for (const auto& d : parsed.error()) all += "\n" + d.format();
            throw base::Error("--service-images " + f.service_images + ":" + all);
        }
        c.services = parsed->services;
        c.container = parsed->container;
    }
    c.cache.dir = f.cache_dir;
    cache::parseStorageChoice(f.storage, "--storage");  // its mistake is the flag's
    c.cache.storage = f.storage;
    c.cache.actions_cache_dir = f.cache_server_dir;
    if (f.no_cache_server) c.cache.actions_cache_budget = 0;

    // Empty: found when the run starts (Nix's search path, then the flake registry).
    c.nix.nixpkgs = f.nixpkgs;
    if (!f.packages.empty()) c.nix.packages = cache::parsePackageList(f.packages);
    c.nix.default_packages = saved.default_packages;

    c.proxy.mode = f.network_audit ? "audit" : "enforce";
    c.proxy.policy = f.policy;
    if (!f.credential_file.empty()) {
        for (auto& s : network::readCredentialFile(f.credential_file)) {
            c.proxy.credentials.push_back(
                {s.name, s.env, s.file, s.hosts, s.header, s.dummy, s.origin});
        }
    }
    if (!f.extra_ca_file.empty()) {
        if (::access(f.extra_ca_file.c_str(), R_OK) != 0)
            throw base::SysError("--extra-ca-file '" + f.extra_ca_file + "'");
        c.proxy.extra_ca_file = f.extra_ca_file;
    }
    for (const auto& s : f.host_overrides) c.proxy.host_overrides.insert(parseKeyValue(s, "--host-override"));
    for (const auto& s : f.secret_hosts) {
        auto [name, hosts] = network::parseSecretHost(s);
        c.proxy.secret_hosts[name].hosts = std::move(hosts);
    }
    for (const auto& name : f.secret_in_bodies) {
        auto it = c.proxy.secret_hosts.find(name);
        if (it == c.proxy.secret_hosts.end()) {
            throw base::Error("--secret-in-bodies " + name + ": bind the secret to its hosts first (--secret-host " +
                              name + "=HOST)");
        }
        it->second.bodies = true;
    }
    c.proxy.repository_policy = f.repository_policy;
    return c;
}

ExecValues execValues(const ExecFlags& f) {
    ExecValues v;
    if (!f.event_path.empty()) {
        try {
            v.event = nlohmann::json::parse(base::readFile(f.event_path));
        } catch (const nlohmann::json::parse_error& e) {
            throw base::Error("--eventpath '" + f.event_path + "' is not valid JSON: " + e.what());
        }
    }
    for (const auto& s : f.inputs) v.inputs.insert(parseKeyValue(s, "--input"));
    for (const auto& file : f.secret_files) {
        for (auto& [k, value] : readKeyValueFile(file)) v.secrets[k] = value;
    }
    for (const auto& s : f.secrets) {
        auto [k, value] = parseKeyValue(s, "--secret", '=', true);
        v.secrets[k] = value;
    }
    for (const auto& s : f.vars) v.vars.insert(parseKeyValue(s, "--var"));
    for (const auto& s : f.envs) v.env.push_back(parseKeyValue(s, "--env"));
    for (const auto& s : f.matrix) v.matrix.push_back(parseKeyValue(s, "--matrix", ':'));
    return v;
}

}  // namespace nixjail::runner::cli
