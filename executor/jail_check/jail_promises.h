// The jail's promises, checked from inside: what a step must not have (a capability, a way to gain
// privileges, a network route, a writable store), what it must have (a seccomp filter), and the
// cgroup limits the runner asked for. The facts are gathered by the static nixjail-jail-check
// program that the runner runs in each job's jail before its first step; judging them is pure, so
// every failure is tested from made-up facts as well as from a really weakened jail.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "executor/executor.h"

namespace nixjail::executor {

// What the program reads and tries inside the jail.
struct JailFacts {
    std::string proc_status;  // /proc/self/status
    std::string net_dev;      // /proc/self/net/dev (ProcSubset=pid hides /proc/net)
    std::string net_route;    // /proc/self/net/route (IPv4 main table)
    std::string ipv6_route;   // /proc/self/net/ipv6_route (every table)
    // errno of creating a file in /nix/store: 0 when it was created (then removed again),
    // ENOENT when the root has no store.
    int store_create_errno = 0;
};

struct PromiseCheck {
    std::string name;  // "capabilities", "no_new_privs", "seccomp", "network", "store", "cgroup"
    bool passed = false;
    std::string detail;  // what was seen
};

// Judges each promise made inside the jail, in a fixed order.
std::vector<PromiseCheck> judgeJailFacts(const JailFacts& facts);

// A cgroup limit knob's text (memory.max, pids.max, v1's memory.limit_in_bytes), surrounding
// whitespace allowed: nullopt for "max", v1's "unlimited" (a page-rounded 2^63), or anything
// that is not a number.
std::optional<std::uint64_t> parseCgroupLimit(std::string_view text);

// The "cgroup" promise: both limits in place and no looser than asked (v1 rounds memory down to
// a page, so tighter is accepted).
PromiseCheck judgeLimits(const AppliedLimits& applied, std::uint64_t memory_max_bytes,
                         std::uint64_t pids_max);

// One line per check, "ok NAME: DETAIL" or "FAIL NAME: DETAIL", as the program prints them.
std::string formatChecks(const std::vector<PromiseCheck>& checks);
// Reads what formatChecks wrote; lines that are not checks are ignored.
std::vector<PromiseCheck> parseChecks(std::string_view text);

}  // namespace nixjail::executor
