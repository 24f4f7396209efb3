// Which jail the attacks run against: the namespace executor's (default), or with
// NIXJAIL_SECURITY_EXECUTOR=systemd the systemd backend's transient units. That one needs systemd
// as PID 1: tests/systemd/in-systemd boots one in a root of its own and runs the suite there
// (ctest: systemd_booted_suite).
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include "executor/namespace/namespace_executor.h"
#include "executor/systemd/systemd_executor.h"

namespace nixjail::executor::testing {

inline bool attacksUnderSystemd() {
    const char* backend = std::getenv("NIXJAIL_SECURITY_EXECUTOR");
    return backend && std::string(backend) == "systemd";
}

// Why the chosen backend cannot run here, or empty.
inline std::string attackBackendUnavailableReason() {
    if (!attacksUnderSystemd()) return jailUnavailableReason();
    if (!systemdIsPid1()) {
        return "NIXJAIL_SECURITY_EXECUTOR=systemd, but systemd is not PID 1 here; run the suite "
               "through tests/systemd/in-systemd";
    }
    return {};
}

inline std::unique_ptr<Executor> makeAttackExecutor() {
    if (attacksUnderSystemd()) return makeSystemdExecutor();
    return std::make_unique<NamespaceExecutor>();
}

}  // namespace nixjail::executor::testing

// Skip (or, with NIXJAIL_TESTS_STRICT=1, fail) when the chosen backend cannot run here; a
// systemd run asked for where systemd is not PID 1 always fails.
#define NIXJAIL_REQUIRE_ATTACK_BACKEND()                                                       \
    do {                                                                                       \
        auto why_ = ::nixjail::executor::testing::attackBackendUnavailableReason();            \
        if (!why_.empty()) {                                                                   \
            const char* strict_ = std::getenv("NIXJAIL_TESTS_STRICT");                         \
            if ((strict_ && std::string(strict_) == "1") ||                                    \
                ::nixjail::executor::testing::attacksUnderSystemd())                           \
                FAIL() << why_;                                                                \
            GTEST_SKIP() << why_;                                                              \
        }                                                                                      \
    } while (0)
