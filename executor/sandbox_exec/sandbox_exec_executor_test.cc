// The sandbox-exec factory: on macOS it builds the executor; elsewhere it refuses and names the
// Linux backends.
#include "executor/sandbox_exec/sandbox_exec_executor.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"

namespace nixjail::executor {
namespace {

#ifdef __APPLE__
TEST(MakeSandboxExecExecutor, BuildsTheSeatbeltExecutorOnMacos) {
    auto e = makeSandboxExecExecutor();
    EXPECT_EQ(e->name(), "sandbox-exec");
    EXPECT_FALSE(e->traits().remaps_paths);
}
#else
TEST(MakeSandboxExecExecutor, RefusedOffMacosNamingTheLinuxBackends) {
    try {
        makeSandboxExecExecutor();
        FAIL() << "created a sandbox-exec executor off macOS";
    } catch (const base::Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("only on macOS"), std::string::npos) << what;
        EXPECT_NE(what.find("namespace executor"), std::string::npos) << what;
    }
}
#endif

}  // namespace
}  // namespace nixjail::executor
