// The .runner file: round trip, mode 0600, clear errors.
#include "runner/forge/runner_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::forge {
namespace {

TEST(RunnerFile, RoundTripsWithMode0600) {
    base::TempDir dir("nixjail-forge-");
    auto path = dir.path() / ".runner";
    RunnerFile f{7,
                 "5c0f4f2e-2a7b-4c8e-9d0e-3f1f0f6a9b11",
                 "build-01",
                 base::Secret("3f9a"),
                 "https://forge.example.com",
                 {"nix:host", "linux"},
                 false};
    writeRunnerFile(path, f);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto back = readRunnerFile(path);
    EXPECT_EQ(back.id, 7);
    EXPECT_EQ(back.uuid, f.uuid);
    EXPECT_EQ(back.token.reveal(), "3f9a");
    EXPECT_EQ(back.address, f.address);
    EXPECT_EQ(back.labels, f.labels);
    EXPECT_NE(base::readFile(path).find("\"WARNING\""), std::string::npos);
}

TEST(RunnerFile, MissingFileSaysToRegister) {
    base::TempDir dir("nixjail-forge-");
    try {
        readRunnerFile(dir.path() / ".runner");
        FAIL();
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("nixjail-runner register"), std::string::npos)
            << e.what();
    }
}

TEST(RunnerFile, MissingTokenIsNamed) {
    base::TempDir dir("nixjail-forge-");
    base::writeFile(dir.path() / ".runner", R"({"uuid":"u","address":"http://x"})");
    try {
        readRunnerFile(dir.path() / ".runner");
        FAIL();
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("token"), std::string::npos) << e.what();
    }
}

TEST(RunnerFile, OfflineSecretGivesForgejosUuidAndToken) {
    auto f = runnerFileFromSecret("https://f", "0123456789abcdef0123456789abcdef01234567", "r");
    // The first 16 ASCII characters are the raw UUID bytes: '0' = 0x30 ...
    EXPECT_EQ(f.uuid, "30313233-3435-3637-3839-616263646566");
    EXPECT_EQ(f.token.reveal(), "0123456789abcdef0123456789abcdef01234567");
    EXPECT_THROW(runnerFileFromSecret("https://f", "short", "r"), base::Error);
    EXPECT_THROW(runnerFileFromSecret("https://f", std::string(40, 'g'), "r"), base::Error);
}

}  // namespace
}  // namespace nixjail::runner::forge
