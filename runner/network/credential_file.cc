// See credential_file.h.
#include "runner/network/credential_file.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <set>

#include "runner/base/error.h"
#include "runner/base/file_io.h"

namespace nixjail::runner::network {

namespace {

using base::ConfigError;

ConfigError errorAt(const std::string& source, const YAML::Node& node, const std::string& msg) {
    const YAML::Mark m = node.Mark();
    if (m.is_null()) return ConfigError(source, 0, 0, msg);
    return ConfigError(source, m.line + 1, m.column + 1, msg);
}

std::string scalar(const std::string& source, const YAML::Node& node, const std::string& key) {
    if (!node.IsScalar()) throw errorAt(source, node, "'" + key + "' must be a string");
    return node.as<std::string>();
}

CredentialSource parseOne(const std::string& source, const YAML::Node& item) {
    if (!item.IsMap()) {
        throw errorAt(source, item,
                      "a credential must be a mapping {name, env|file, hosts, header, dummy}");
    }
    CredentialSource c;
    c.origin = source + ":" + std::to_string(item.Mark().line + 1) + ":" +
               std::to_string(item.Mark().column + 1);
    for (const auto& kv : item) {
        const std::string key = kv.first.as<std::string>();
        const YAML::Node& v = kv.second;
        if (key == "name") {
            c.name = scalar(source, v, key);
        } else if (key == "env") {
            c.env = scalar(source, v, key);
        } else if (key == "file") {
            c.file = scalar(source, v, key);
        } else if (key == "header") {
            c.header = scalar(source, v, key);
        } else if (key == "dummy") {
            c.dummy = scalar(source, v, key);
        } else if (key == "hosts") {
            if (v.IsScalar()) {
                c.hosts.push_back(v.as<std::string>());
            } else if (v.IsSequence()) {
                for (const auto& h : v) c.hosts.push_back(scalar(source, h, "hosts"));
            } else {
                throw errorAt(source, v, "'hosts' must be a list of host names or globs");
            }
        } else {
            throw errorAt(
                source, kv.first,
                "unknown key '" + key + "' (expected name, env, file, hosts, header, dummy)");
        }
    }
    if (c.name.empty()) throw errorAt(source, item, "a credential needs a 'name'");
    const std::string what = "credential '" + c.name + "'";
    if (c.env.empty() == c.file.empty())
        throw errorAt(source, item, what + " needs exactly one of 'env' or 'file'");
    if (c.hosts.empty()) throw errorAt(source, item, what + " needs 'hosts'");
    if (c.header.find("{token}") == std::string::npos) {
        throw errorAt(
            source, item,
            what + " needs a 'header' containing {token}, e.g. \"Authorization: Bearer {token}\"");
    }
    if (c.dummy.size() < 8)
        throw errorAt(source, item, what + " needs a 'dummy' of at least 8 characters");
    return c;
}

}  // namespace

proxy::Credential resolveCredential(const CredentialSource& source) {
    std::string value;
    if (!source.env.empty()) {
        const char* v = std::getenv(source.env.c_str());
        if (!v || !*v) {
            throw base::Error("credential '" + source.name + "' (" + source.origin +
                              "): environment variable '" + source.env +
                              "' is unset or empty; export it for the runner");
        }
        value = v;
    } else {
        try {
            value = base::readFile(source.file);
        } catch (const base::Error& e) {
            throw base::Error("credential '" + source.name + "' (" + source.origin +
                              "): " + e.what());
        }
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
        if (value.empty()) {
            throw base::Error("credential '" + source.name + "' (" + source.origin + "): file '" +
                              source.file + "' is empty");
        }
    }
    if (value == source.dummy) {
        throw base::Error("credential '" + source.name + "' (" + source.origin +
                          "): the real value equals the dummy; choose another dummy");
    }
    proxy::Credential c;
    c.name = source.name;
    c.value = base::Secret(std::move(value));
    c.hosts = source.hosts;
    c.header_template = source.header;
    c.dummy = source.dummy;
    return c;
}

std::vector<CredentialSource> parseCredentialList(std::string_view yaml,
                                                  const std::string& source) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::ParserException& e) {
        throw ConfigError(source, e.mark.line + 1, e.mark.column + 1, e.msg);
    }
    if (root.IsNull()) return {};
    if (!root.IsSequence()) {
        throw errorAt(source, root,
                      "expected a list of credentials {name, env|file, hosts, header, dummy}");
    }
    std::vector<CredentialSource> out;
    std::set<std::string> names;
    for (const auto& item : root) {
        out.push_back(parseOne(source, item));
        if (!names.insert(out.back().name).second) {
            throw errorAt(source, item, "credential '" + out.back().name + "' is defined twice");
        }
    }
    return out;
}

std::vector<CredentialSource> readCredentialFile(const std::filesystem::path& path) {
    std::string text;
    try {
        text = base::readFile(path);
    } catch (const base::Error& e) {
        throw ConfigError(path.string(), 0, 0,
                          std::string("cannot read the credential file: ") + e.what());
    }
    return parseCredentialList(text, path.string());
}

std::vector<proxy::Credential> loadCredentialFile(const std::filesystem::path& path) {
    std::vector<proxy::Credential> out;
    for (const auto& source : readCredentialFile(path)) out.push_back(resolveCredential(source));
    return out;
}

}  // namespace nixjail::runner::network
