// End-to-end: `register` against the fake forge and `create-runner-file`; the runner file they
// write is private and holds what the daemon needs.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "e2e_run.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "tests/support/fake_forge_server.h"

namespace {

using nixjail::base::TempDir;
using nixjail::e2e::runBinary;

TEST(RegisterE2E, RegistersAndWritesAPrivateRunnerFile) {
    nixjail::tests::FakeForgeServer forge;
    TempDir dir;
    const auto file = dir.path() / ".runner";
    auto r = runBinary({"register", "--instance", forge.url(), "--token", "0123456789abcdef0123456789abcdef01234567",
                        "--name", "ci-box", "--labels", "nix,nix-big:host", "--no-interactive", "--runner-file",
                        file.string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("registered runner 'ci-box'"), std::string::npos) << r.out;
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto json = nlohmann::json::parse(nixjail::base::readFile(file));
    EXPECT_EQ(json["name"], "ci-box");
    EXPECT_FALSE(json["uuid"].get<std::string>().empty());
    EXPECT_FALSE(json["token"].get<std::string>().empty());
    EXPECT_EQ(json["labels"], nlohmann::json::parse(R"(["nix","nix-big:host"])"));
    EXPECT_EQ(r.out.find(json["token"].get<std::string>()), std::string::npos) << "the token must not be printed";
}

TEST(RegisterE2E, WrongTokenIsAClearErrorAndWritesNothing) {
    nixjail::tests::FakeForgeServer forge;
    TempDir dir;
    const auto file = dir.path() / ".runner";
    auto r = runBinary({"register", "--instance", forge.url(), "--token", "wrong", "--no-interactive",
                        "--runner-file", file.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_FALSE(r.err.empty());
    EXPECT_FALSE(std::filesystem::exists(file));
    auto missing = runBinary({"register", "--no-interactive"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("--instance is required"), std::string::npos) << missing.err;
}

TEST(RegisterE2E, OfflineRunnerFileFromASecret) {
    TempDir dir;
    const auto file = dir.path() / ".runner";
    auto r = runBinary({"create-runner-file", "--instance", "https://forge.example", "--secret",
                        "0123456789abcdef0123456789abcdef01234567", "--name", "offline", "--runner-file", file.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto json = nlohmann::json::parse(nixjail::base::readFile(file));
    EXPECT_EQ(json["name"], "offline");
    EXPECT_EQ(json["address"], "https://forge.example");
    auto bad = runBinary({"create-runner-file", "--instance", "https://forge.example", "--secret", "xyz",
                          "--runner-file", file.string() + ".bad"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_FALSE(bad.err.empty());
}

// The token can come from a file (NixOS's LoadCredential), so it never shows on a command line.
TEST(RegisterE2E, TokenAndSecretFromFiles) {
    nixjail::tests::FakeForgeServer forge;
    TempDir dir;
    nixjail::base::writeFile(dir.path() / "token", "0123456789abcdef0123456789abcdef01234567\n");
    auto r = runBinary({"register", "--instance", forge.url(), "--token-file", (dir.path() / "token").string(),
                        "--no-interactive", "--runner-file", (dir.path() / ".runner").string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto both = runBinary({"register", "--instance", forge.url(), "--token", "x", "--token-file",
                           (dir.path() / "token").string(), "--no-interactive", "--runner-file",
                           (dir.path() / "other").string()});
    EXPECT_EQ(both.exit_code, 1);
    EXPECT_NE(both.err.find("give either --token or --token-file, not both"), std::string::npos) << both.err;
    nixjail::base::writeFile(dir.path() / "empty", "");
    auto empty = runBinary({"create-runner-file", "--instance", "https://forge.example", "--secret-file",
                            (dir.path() / "empty").string(), "--runner-file", (dir.path() / "offline").string()});
    EXPECT_EQ(empty.exit_code, 1);
    EXPECT_NE(empty.err.find("--secret-file '" + (dir.path() / "empty").string() + "' is empty"), std::string::npos)
        << empty.err;
    auto offline = runBinary({"create-runner-file", "--instance", "https://forge.example", "--secret-file",
                              (dir.path() / "token").string(), "--runner-file", (dir.path() / "offline").string()});
    EXPECT_EQ(offline.exit_code, 0) << offline.err;
}

}  // namespace
