// Judging the jail's promises from the facts gathered inside it.
#include "executor/jail_check/jail_promises.h"

#include <cerrno>
#include <cstring>

namespace nixjail::executor {

namespace {

std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        out.push_back(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// The value of "Key:\tvalue" in /proc/self/status; nullopt when absent.
std::optional<std::string> statusField(std::string_view status, std::string_view key) {
    for (auto line : lines(status)) {
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':')
            return std::string(trim(line.substr(key.size() + 1)));
    }
    return std::nullopt;
}

// Split by hand, not with a stringstream: iostreams would pull the locale machinery into the
// static nixjail-jail-check (1.7 MB instead of a few hundred KB), which is copied into every job.
std::vector<std::string> whitespaceFields(std::string_view line) {
    std::vector<std::string> out;
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
    for (std::size_t i = 0; i < line.size();) {
        while (i < line.size() && space(line[i])) ++i;
        const std::size_t start = i;
        while (i < line.size() && !space(line[i])) ++i;
        if (i > start) out.emplace_back(line.substr(start, i - start));
    }
    return out;
}

PromiseCheck checkCapabilities(std::string_view status) {
    PromiseCheck c{.name = "capabilities"};
    std::string seen;
    bool all_zero = true;
    for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) {
        auto v = statusField(status, set);
        if (!v) {
            // CapAmb is missing before Linux 4.3 only; the others are always there.
            if (std::strcmp(set, "CapAmb") == 0) continue;
            c.detail = std::string(set) + " is missing from /proc/self/status";
            return c;
        }
        if (v->find_first_not_of('0') != std::string::npos) {
            all_zero = false;
            seen += (seen.empty() ? "" : ", ") + std::string(set) + "=" + *v;
        }
    }
    c.passed = all_zero;
    c.detail = all_zero ? "none (inheritable, permitted, effective and ambient sets are empty)"
                        : "the step holds " + seen;
    return c;
}

PromiseCheck checkNoNewPrivs(std::string_view status) {
    PromiseCheck c{.name = "no_new_privs"};
    auto v = statusField(status, "NoNewPrivs");
    c.passed = v && *v == "1";
    c.detail = !v ? "NoNewPrivs is missing from /proc/self/status"
               : c.passed ? "set (setuid programs and file capabilities grant nothing)"
                          : "not set: a setuid program could raise the step's privileges";
    return c;
}

PromiseCheck checkSeccomp(std::string_view status) {
    PromiseCheck c{.name = "seccomp"};
    auto v = statusField(status, "Seccomp");
    c.passed = v && *v == "2";
    c.detail = !v ? "Seccomp is missing from /proc/self/status (a kernel without seccomp)"
               : c.passed ? "filter mode"
                          : "mode " + *v + ", not filter mode (2): no system call is refused";
    return c;
}

PromiseCheck checkNetwork(const JailFacts& f) {
    PromiseCheck c{.name = "network"};
    std::vector<std::string> others;
    auto note = [&](const std::string& what) {
        for (const auto& o : others) {
            if (o == what) return;
        }
        others.push_back(what);
    };
    bool any_interface = false;
    for (auto line : lines(f.net_dev)) {
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;  // the two header lines
        std::string name(trim(line.substr(0, colon)));
        if (name.empty() || name.find('|') != std::string::npos) continue;
        any_interface = true;
        if (name != "lo") note("interface " + name);
    }
    bool header = true;
    for (auto line : lines(f.net_route)) {
        if (header) {
            header = false;
            continue;
        }
        auto fields = whitespaceFields(line);
        if (fields.empty()) continue;
        if (fields[0] != "lo") note("IPv4 route via " + fields[0]);
    }
    for (auto line : lines(f.ipv6_route)) {
        auto fields = whitespaceFields(line);
        if (fields.size() < 10) continue;
        if (fields[9] != "lo") note("IPv6 route via " + fields[9]);
    }
    if (!any_interface) {
        c.detail = "no network interface is listed in /proc/self/net/dev (is /proc the jail's own?)";
        return c;
    }
    c.passed = others.empty();
    if (c.passed) {
        c.detail = "loopback only";
    } else {
        c.detail = "not only loopback:";
        for (const auto& o : others) c.detail += " " + o + ";";
        c.detail.pop_back();
    }
    return c;
}

PromiseCheck checkStore(int err) {
    PromiseCheck c{.name = "store"};
    if (err == ENOENT) {
        c.passed = true;
        c.detail = "no /nix/store in this root";
    } else if (err == 0) {
        c.detail = "the step could create a file in /nix/store";
    } else {
        c.passed = err == EROFS || err == EACCES || err == EPERM;
        c.detail = std::string(c.passed ? "read-only" : "unexpected answer") +
                   " (creating a file there: " + std::strerror(err) + ")";
    }
    return c;
}

std::string sizeText(std::uint64_t bytes) {
    if (bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + " GiB";
    if (bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    return std::to_string(bytes) + " bytes";
}

}  // namespace

std::vector<PromiseCheck> judgeJailFacts(const JailFacts& facts) {
    return {checkCapabilities(facts.proc_status), checkNoNewPrivs(facts.proc_status),
            checkSeccomp(facts.proc_status), checkNetwork(facts), checkStore(facts.store_create_errno)};
}

std::optional<std::uint64_t> parseCgroupLimit(std::string_view text) {
    text = trim(text);
    if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    const std::uint64_t v = std::stoull(std::string(text));
    if (v >= (1ull << 62)) return std::nullopt;
    return v;
}

PromiseCheck judgeLimits(const AppliedLimits& applied, std::uint64_t memory_max_bytes,
                         std::uint64_t pids_max) {
    PromiseCheck c{.name = "cgroup"};
    std::string wrong;
    if (!applied.memory_max_bytes) {
        wrong += "no memory limit (asked for " + sizeText(memory_max_bytes) + ")";
    } else if (*applied.memory_max_bytes > memory_max_bytes) {
        wrong += "memory limit " + sizeText(*applied.memory_max_bytes) + ", asked for " +
                 sizeText(memory_max_bytes);
    }
    if (!applied.pids_max) {
        wrong += std::string(wrong.empty() ? "" : "; ") + "no process limit (asked for " +
                 std::to_string(pids_max) + ")";
    } else if (*applied.pids_max > pids_max) {
        wrong += std::string(wrong.empty() ? "" : "; ") + "process limit " +
                 std::to_string(*applied.pids_max) + ", asked for " + std::to_string(pids_max);
    }
    c.passed = wrong.empty();
    c.detail = c.passed ? "memory " + sizeText(*applied.memory_max_bytes) + ", processes " +
                              std::to_string(*applied.pids_max)
                        : wrong;
    return c;
}

std::string formatChecks(const std::vector<PromiseCheck>& checks) {
    std::string out;
    for (const auto& c : checks) {
        out += (c.passed ? "ok " : "FAIL ") + c.name + ": " + c.detail + "\n";
    }
    return out;
}

std::vector<PromiseCheck> parseChecks(std::string_view text) {
    std::vector<PromiseCheck> out;
    for (auto line : lines(text)) {
        PromiseCheck c;
        if (line.substr(0, 3) == "ok ") {
            c.passed = true;
            line.remove_prefix(3);
        } else if (line.substr(0, 5) == "FAIL ") {
            line.remove_prefix(5);
        } else {
            continue;
        }
        size_t colon = line.find(": ");
        if (colon == std::string_view::npos || colon == 0) continue;
        c.name = std::string(line.substr(0, colon));
        c.detail = std::string(trim(line.substr(colon + 2)));
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace nixjail::executor
