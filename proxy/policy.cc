// Policy matching and composition (pure; the YAML side is in policy_loader.cc).
#include "proxy/policy.h"

#include <algorithm>

namespace nixjail::proxy {

const char* toString(PolicyDecision d) { return d == PolicyDecision::kAllow ? "allow" : "deny"; }

namespace {

std::string toLower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

// Iterative glob with single-star backtracking: linear enough for host names, no recursion.
bool globMatch(std::string_view pattern, std::string_view text) {
    std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

}  // namespace

HostPattern HostPattern::literalOrGlob(std::string text) {
    HostPattern h;
    h.text_ = toLower(std::move(text));
    h.kind_ = h.text_.find_first_of("*?") == std::string::npos ? Kind::kExact : Kind::kGlob;
    return h;
}

HostPattern HostPattern::regex(std::string text) {
    HostPattern h;
    h.kind_ = Kind::kRegex;
    h.regex_ = std::make_shared<const std::regex>(text, std::regex::ECMAScript | std::regex::icase);
    h.text_ = std::move(text);
    return h;
}

bool HostPattern::matches(std::string_view host) const {
    switch (kind_) {
        case Kind::kExact:
            return host == text_;
        case Kind::kGlob:
            return globMatch(text_, host);
        case Kind::kRegex:
            return regex_ && std::regex_match(host.begin(), host.end(), *regex_);
    }
    return false;
}

void PolicyRule::compile() {
    path_.reset();
    if (path_regex) path_ = std::make_shared<const std::regex>(*path_regex, std::regex::ECMAScript);
}

bool PolicyRule::matches(std::string_view method, std::string_view host,
                         std::string_view path) const {
    if (!this->host.matches(host)) return false;
    if (!methods.empty() && std::find(methods.begin(), methods.end(), method) == methods.end()) {
        return false;
    }
    if (path_regex) {
        if (!path_)
            return false;  // not compiled: never match, so a forgotten compile() cannot allow
        return std::regex_match(path.begin(), path.end(), *path_);
    }
    return true;
}

std::string PolicyRule::describe() const {
    std::string out = action == PolicyAction::kAllow ? "allow" : "deny";
    out += host.kind() == HostPattern::Kind::kRegex ? " host_regex '" : " host '";
    out += host.text() + "'";
    if (path_regex) out += " path '" + *path_regex + "'";
    if (!methods.empty()) {
        out += " methods ";
        for (std::size_t i = 0; i < methods.size(); ++i) out += (i ? "," : "") + methods[i];
    }
    if (!origin.empty()) out += " (" + origin + ")";
    return out;
}

std::string PolicyVerdict::describe() const {
    std::string prefix = layer.empty() ? "" : layer + " policy: ";
    if (!rule) return prefix + "no rule matched (default deny)";
    return prefix + "rule " + rule->describe();
}

Policy Policy::fromRules(std::string layer_name, std::vector<PolicyRule> rules) {
    Policy p;
    p.layers_.push_back({std::move(layer_name), std::move(rules)});
    return p;
}

Policy Policy::compose(const Policy& admin, const Policy& label, const Policy& job) {
    Policy p;
    for (const Policy* part : {&admin, &label, &job}) {
        p.layers_.insert(p.layers_.end(), part->layers_.begin(), part->layers_.end());
    }
    return p;
}

Policy Policy::withRulesFirstInEveryLayer(const std::vector<PolicyRule>& rules,
                                          const std::string& layer_name) const {
    if (layers_.empty()) return fromRules(layer_name, rules);
    Policy p = *this;
    for (auto& layer : p.layers_)
        layer.rules.insert(layer.rules.begin(), rules.begin(), rules.end());
    return p;
}

PolicyVerdict Policy::evaluate(std::string_view method, std::string_view host,
                               std::string_view path) const {
    if (layers_.empty()) return PolicyVerdict{PolicyDecision::kDeny, std::nullopt, "no"};
    PolicyVerdict last;
    for (const auto& layer : layers_) {
        PolicyVerdict v{PolicyDecision::kDeny, std::nullopt, layer.name};
        for (const auto& rule : layer.rules) {
            if (rule.matches(method, host, path)) {
                v.decision = rule.action == PolicyAction::kAllow ? PolicyDecision::kAllow
                                                                 : PolicyDecision::kDeny;
                v.rule = rule;
                break;
            }
        }
        if (v.decision == PolicyDecision::kDeny) return v;
        last = std::move(v);
    }
    return last;  // allowed by every layer; report the innermost (most specific) allowing rule
}

PolicyVerdict Policy::evaluateHost(std::string_view host) const {
    if (layers_.empty()) return PolicyVerdict{PolicyDecision::kDeny, std::nullopt, "no"};
    PolicyVerdict last;
    for (const auto& layer : layers_) {
        PolicyVerdict v{PolicyDecision::kDeny, std::nullopt, layer.name};
        for (const auto& rule : layer.rules) {
            if (!rule.host.matches(host)) continue;
            // A conditional deny may not apply to every request, so it cannot settle the host;
            // a conditional allow means some request could pass.
            if (rule.unconditional() || rule.action == PolicyAction::kAllow) {
                v.decision = rule.action == PolicyAction::kAllow ? PolicyDecision::kAllow
                                                                 : PolicyDecision::kDeny;
                v.rule = rule;
                break;
            }
        }
        if (v.decision == PolicyDecision::kDeny) return v;
        last = std::move(v);
    }
    return last;
}

}  // namespace nixjail::proxy
