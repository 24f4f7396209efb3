// Test fixture only: a jail root for tests until the Nix closure root exists. It binds the host's
// /usr (and /bin, /lib, /lib64, /sbin when they are directories; symlinks are recreated) read-only,
// has a minimal /etc, and a writable workspace owned by the step's host uid.
#pragma once

#include <filesystem>
#include <string>

#include "executor/executor.h"
#include "executor/namespace/namespace_executor.h"
#include "runner/base/temp_dir.h"

namespace nixjail::executor::testing {

class TestRoot {
  public:
    explicit TestRoot(const NamespaceExecutor& executor);
    // root + binds (host system dirs read-only, workspace read-write at /workspace).
    JailSpec spec(const std::string& job_id) const;
    const std::filesystem::path& root() const { return root_; }
    const std::filesystem::path& workspace() const { return workspace_; }

  private:
    base::TempDir dir_;
    std::filesystem::path root_;
    std::filesystem::path workspace_;
    std::vector<BindMount> system_binds_;
};

// Why the live jail cannot run here, or empty when it can (root, user namespaces, cgroups).
std::string jailUnavailableReason();

}  // namespace nixjail::executor::testing

// Skip (or, with NIXJAIL_TESTS_STRICT=1, fail) a test when the jail cannot run on this machine.
#define NIXJAIL_REQUIRE_JAIL()                                             \
    do {                                                                   \
        auto why_ = ::nixjail::executor::testing::jailUnavailableReason(); \
        if (!why_.empty()) {                                               \
            const char* strict_ = std::getenv("NIXJAIL_TESTS_STRICT");     \
            if (strict_ && std::string(strict_) == "1") FAIL() << why_;    \
            GTEST_SKIP() << why_;                                          \
        }                                                                  \
    } while (0)
