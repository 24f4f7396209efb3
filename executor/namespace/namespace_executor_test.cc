// Live tests of the namespace jail: real programs in real namespaces (needs root).
#include "executor/namespace/namespace_executor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "executor/namespace/jail_setup_error.h"
#include "executor/namespace/test_root.h"
#include "runner/base/file_io.h"

namespace nixjail::executor {
namespace {

const std::vector<std::string> kEnv = {"PATH=/usr/bin:/bin", "HOME=/workspace", "LANG=C"};

class NamespaceJailTest : public ::testing::Test {
protected:
    void SetUp() override {
        NIXJAIL_REQUIRE_JAIL();
        root_ = std::make_unique<testing::TestRoot>(executor_);
    }

    JailSpec spec() const { return root_->spec("live-test"); }

    StepResult runIn(Jail& jail, std::vector<std::string> argv, std::string* out = nullptr,
                     std::optional<std::chrono::milliseconds> timeout = {},
                     std::stop_token cancel = {}) {
        StepInvocation step;
        step.argv = std::move(argv);
        step.env = kEnv;
        step.cwd = "/workspace";
        step.timeout = timeout;
        step.cancel = cancel;
        step.on_output = [out](std::string_view s) {
            if (out) out->append(s);
        };
        return jail.run(step);
    }

    StepResult sh(const std::string& script, std::string* out = nullptr) {
        auto jail = executor_.prepare(spec());
        return runIn(*jail, {"/bin/sh", "-c", script}, out);
    }

    NamespaceExecutor executor_;
    std::unique_ptr<testing::TestRoot> root_;
};

TEST_F(NamespaceJailTest, ExitCodeAndOutputArePassedThrough) {
    std::string out;
    auto r = sh("echo hello; echo oops >&2; exit 7", &out);
    EXPECT_EQ(r.setup_error, "");
    EXPECT_EQ(r.exit_code, 7);
    EXPECT_EQ(out, "hello\noops\n");
}

}  // namespace
}  // namespace nixjail::executor
