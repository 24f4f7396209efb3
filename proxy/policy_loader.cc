// Policy YAML -> Policy: the only place the proxy meets yaml-cpp. Reports every problem at once.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "proxy/policy.h"

namespace nixjail::proxy {

using base::ConfigError;

namespace {

constexpr const char* kRuleKeys[] = {"host", "host_regex", "path", "methods", "action"};

// yaml-cpp marks are 0-based; messages are 1-based.
ConfigError errorAt(const std::string& source, const YAML::Node& node, const std::string& msg) {
    YAML::Mark m = node.Mark();
    if (m.is_null()) return ConfigError(source, 0, 0, msg);
    return ConfigError(source, m.line + 1, m.column + 1, msg);
}

std::size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string unknownKeyMessage(const std::string& key) {
    std::string best;
    std::size_t best_d = 3;
    for (const char* k : kRuleKeys) {
        std::size_t d = editDistance(key, k);
        if (d < best_d) {
            best_d = d;
            best = k;
        }
    }
    std::string msg = "unknown rule key '" + key + "'";
    if (!best.empty()) return msg + "; did you mean '" + best + "'?";
    return msg + "; expected one of host, host_regex, path, methods, action";
}

std::optional<PolicyRule> parseRule(const YAML::Node& node, const std::string& source,
                                    std::vector<ConfigError>& errors) {
    if (!node.IsMap()) {
        errors.push_back(
            errorAt(source, node, "a rule must be a mapping with 'host' or 'host_regex'"));
        return std::nullopt;
    }
    std::size_t before = errors.size();
    PolicyRule rule;
    rule.origin = source + ":" + std::to_string(node.Mark().line + 1) + ":" +
                  std::to_string(node.Mark().column + 1);
    bool has_host = false;
    for (const auto& kv : node) {
        std::string key = kv.first.as<std::string>("");
        const YAML::Node& value = kv.second;
        if (std::find(std::begin(kRuleKeys), std::end(kRuleKeys), key) == std::end(kRuleKeys)) {
            errors.push_back(errorAt(source, kv.first, unknownKeyMessage(key)));
            continue;
        }
        if (key == "methods") {
            if (!value.IsSequence()) {
                errors.push_back(
                    errorAt(source, value, "'methods' must be a list such as [GET, HEAD]"));
                continue;
            }
            for (const auto& m : value) {
                std::string method = m.IsScalar() ? m.Scalar() : "";
                std::transform(method.begin(), method.end(), method.begin(), ::toupper);
                if (method.empty()) errors.push_back(errorAt(source, m, "empty method name"));
                rule.methods.push_back(method);
            }
            continue;
        }
        if (!value.IsScalar() || value.Scalar().empty()) {
            errors.push_back(errorAt(source, value, "'" + key + "' must be a non-empty string"));
            continue;
        }
        const std::string& text = value.Scalar();
        try {
            if (key == "host" || key == "host_regex") {
                if (has_host) {
                    errors.push_back(errorAt(source, kv.first,
                                             "a rule has exactly one of 'host' and 'host_regex'"));
                    continue;
                }
                has_host = true;
                rule.host =
                    key == "host" ? HostPattern::literalOrGlob(text) : HostPattern::regex(text);
            } else if (key == "path") {
                rule.path_regex = text;
                rule.compile();
            } else if (key == "action") {
                if (text == "allow")
                    rule.action = PolicyAction::kAllow;
                else if (text == "deny")
                    rule.action = PolicyAction::kDeny;
                else
                    errors.push_back(errorAt(
                        source, value, "action must be 'allow' or 'deny', not '" + text + "'"));
            }
        } catch (const std::regex_error& e) {
            errors.push_back(
                errorAt(source, value, "invalid regular expression '" + text + "': " + e.what()));
        }
    }
    if (!has_host)
        errors.push_back(errorAt(source, node, "rule has neither 'host' nor 'host_regex'"));
    if (errors.size() != before) return std::nullopt;
    return rule;
}

}  // namespace

base::Result<Policy, std::vector<ConfigError>> parsePolicy(std::string_view yaml,
                                                           const std::string& source,
                                                           const std::string& layer_name,
                                                           const std::vector<std::string>& other_keys) {
    std::vector<ConfigError> errors;
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        errors.emplace_back(source, e.mark.line + 1, e.mark.column + 1, e.msg);
        return base::unexpected(std::move(errors));
    }
    std::vector<PolicyRule> rules;
    if (!root.IsMap()) {
        errors.push_back(errorAt(source, root, "a policy is a mapping with a 'rules' list"));
        return base::unexpected(std::move(errors));
    }
    for (const auto& kv : root) {
        std::string key = kv.first.as<std::string>("");
        if (key != "rules" && std::find(other_keys.begin(), other_keys.end(), key) == other_keys.end()) {
            errors.push_back(
                errorAt(source, kv.first, "unknown policy key '" + key + "'; expected 'rules'"));
        }
    }
    YAML::Node list = root["rules"];
    if (!list || !list.IsSequence()) {
        errors.push_back(errorAt(source, list ? list : root, "'rules' must be a list of rules"));
    } else {
        for (const auto& node : list) {
            if (auto rule = parseRule(node, source, errors)) rules.push_back(std::move(*rule));
        }
    }
    if (!errors.empty()) return base::unexpected(std::move(errors));
    return Policy::fromRules(layer_name, std::move(rules));
}

std::string suggestPolicy(const std::vector<ObservedRequest>& requests) {
    std::map<std::string, std::set<std::string>> methods_by_host;
    for (const auto& r : requests) {
        if (r.method == "CONNECT") {
            methods_by_host[r.host];  // a tunnel alone says nothing about methods
        } else {
            methods_by_host[r.host].insert(r.method);
        }
    }
    YAML::Emitter out;
    out << YAML::BeginMap << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
    for (const auto& [host, methods] : methods_by_host) {
        out << YAML::BeginMap << YAML::Key << "host" << YAML::Value << YAML::DoubleQuoted << host;
        if (!methods.empty()) {
            out << YAML::Key << "methods" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (const auto& m : methods) out << m;
            out << YAML::EndSeq;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

Policy loadPolicyFile(const std::string& path, const std::string& layer_name) {
    std::ifstream in(path);
    if (!in) throw ConfigError(path, 0, 0, "cannot read policy file");
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = parsePolicy(ss.str(), path, layer_name);
    if (parsed) return std::move(*parsed);
    std::string all;
    for (const auto& e : parsed.error()) all += std::string(all.empty() ? "" : "\n") + e.what();
    const auto& first = parsed.error().front();
    if (parsed.error().size() == 1) throw first;
    throw ConfigError(path, first.line(), first.column(),
                      std::to_string(parsed.error().size()) + " problems in policy:\n" + all);
}

}  // namespace nixjail::proxy
