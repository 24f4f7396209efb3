// Network policy: ordered allow/deny rules on host, path and method; first match wins, default
// deny.
//
// Composition: compose(admin, label, job) stacks layers. A request is allowed only when EVERY layer
// allows it (each layer decides on its own first matching rule, or denies by default), so a job's
// policy can only narrow what the admin and the label allow, never widen it.
#pragma once

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "runner/base/error.h"
#include "runner/base/result.h"

namespace nixjail::proxy {

enum class PolicyAction { kAllow, kDeny };
enum class PolicyDecision { kAllow, kDeny };

const char* toString(PolicyDecision d);

// Host patterns are matched against the lower-cased host name (no port):
//   exact "api.example.com"; glob "*.example.com" ('*' = any run of characters, dots included,
//   '?' = one character); regex (ECMAScript, must match the whole host).
class HostPattern {
  public:
    enum class Kind { kExact, kGlob, kRegex };
    // Exact, or glob when the text contains '*' or '?'.
    static HostPattern literalOrGlob(std::string text);
    // Throws std::regex_error for an invalid expression.
    static HostPattern regex(std::string text);

    bool matches(std::string_view host) const;
    Kind kind() const { return kind_; }
    const std::string& text() const { return text_; }

  private:
    Kind kind_ = Kind::kExact;
    std::string text_;
    std::shared_ptr<const std::regex> regex_;
};

struct PolicyRule {
    HostPattern host;
    // Must match the whole path (query excluded). The proxy passes the path normalised the way
    // servers read it (%XX decoded, dot segments resolved, '//' merged: http::normalizePath).
    // Unset = any path.
    std::optional<std::string> path_regex;
    std::vector<std::string> methods;  // upper-case; empty = any method
    PolicyAction action = PolicyAction::kAllow;
    std::string origin;  // where it was written, e.g. "job.yaml:4:5", for messages and audit

    // Compiles path_regex; call after changing it (parsePolicy does). Throws std::regex_error.
    void compile();
    bool matches(std::string_view method, std::string_view host, std::string_view path) const;
    // True when the rule matches the host whatever the method and path are.
    bool unconditional() const { return !path_regex && methods.empty(); }
    // "allow host '*.example.com' path '^/v1/.*' methods GET,HEAD (job.yaml:4:5)"
    std::string describe() const;

  private:
    std::shared_ptr<const std::regex> path_;
};

// The outcome of one evaluation: the decision plus the rule that made it (none = default deny).
struct PolicyVerdict {
    PolicyDecision decision = PolicyDecision::kDeny;
    std::optional<PolicyRule> rule;
    std::string layer;  // name of the deciding layer, e.g. "admin", "job"
    // The text shown to the user in 403 bodies and audit records.
    std::string describe() const;
};

class Policy {
  public:
    // A policy without layers denies everything.
    Policy() = default;
    static Policy fromRules(std::string layer_name, std::vector<PolicyRule> rules);
    // Layers of `admin`, then `label`, then `job`; policies without layers are skipped.
    static Policy compose(const Policy& admin, const Policy& label, const Policy& job);
    // A copy with `rules` placed first in every layer (or as the only layer of an empty policy).
    // For what the runner allows on its own behalf (the forge's git and cache endpoints): with
    // every layer having to allow, a separate layer could not widen anything.
    Policy withRulesFirstInEveryLayer(const std::vector<PolicyRule>& rules,
                                      const std::string& layer_name) const;

    PolicyVerdict evaluate(std::string_view method, std::string_view host,
                           std::string_view path) const;
    // For CONNECT, before any request is seen: deny when no request to `host` could be allowed.
    PolicyVerdict evaluateHost(std::string_view host) const;

    bool empty() const { return layers_.empty(); }

  private:
    struct Layer {
        std::string name;
        std::vector<PolicyRule> rules;
    };
    std::vector<Layer> layers_;
};

// A request seen in audit-only mode (from AuditRecord), input to suggestPolicy().
struct ObservedRequest {
    std::string method;
    std::string host;
    std::string path;
};

// The smallest policy in this format that allows every observed request: one rule per host (in
// name order) with the methods used there. For `nixjail-runner policy suggest JOB`.
std::string suggestPolicy(const std::vector<ObservedRequest>& requests);

// YAML:
//   rules:
//     - host: api.example.com          # or a glob "*.example.com"
//       path: "^/v1/.*"                # optional, whole-path regex
//       methods: [GET, HEAD]           # optional
//       action: allow                  # allow (default) | deny
//     - host_regex: "^(.+\\.)?example\\.org$"
//       action: deny
// Every problem is reported, each with file:line:col. Top-level `other_keys` are left to the
// caller (a file with more in it than a policy).
base::Result<Policy, std::vector<base::ConfigError>> parsePolicy(
    std::string_view yaml, const std::string& source, const std::string& layer_name,
    const std::vector<std::string>& other_keys = {});
// Reads and parses a file; throws ConfigError listing every problem.
Policy loadPolicyFile(const std::string& path, const std::string& layer_name);

}  // namespace nixjail::proxy
