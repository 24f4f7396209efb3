#include "executor/executor_factory.h"

#include <gtest/gtest.h>

#include "executor/systemd/systemd_executor.h"
#include "runner/base/error.h"

namespace nixjail::executor {
namespace {

std::string errorOf(const std::string& backend) {
    try {
        makeExecutor(backend);
    } catch (const base::Error& e) {
        return e.what();
    }
    return "";
}

TEST(ExecutorFactory, NamesTheBackends) {
    EXPECT_EQ(makeExecutor("host")->name(), "host");
    EXPECT_EQ(makeExecutor("namespace")->name(), "namespace");
    EXPECT_NE(errorOf("docker").find("unknown executor 'docker'; choose auto, namespace"), std::string::npos)
        << errorOf("docker");
}

TEST(ExecutorFactory, AutoPicksWhatThisMachineCanRun) {
#ifndef __APPLE__
    EXPECT_EQ(autoBackend(), systemdUnusableReason() ? "namespace" : "systemd");
    EXPECT_NE(errorOf("sandbox-exec"), "");  // macOS only, and it says so
    if (!systemdIsPid1()) {
        EXPECT_NE(errorOf("systemd").find("namespace"), std::string::npos) << errorOf("systemd");
        EXPECT_EQ(makeExecutor("auto")->name(), "namespace");
    }
#endif
}

}  // namespace
}  // namespace nixjail::executor
