#include "runner/network/credential_file.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::network {
namespace {

TEST(CredentialFile, ParsesEnvAndFileSources) {
    auto list = parseCredentialList(R"(
- name: npm
  env: NIXJAIL_TEST_NPM
  hosts: [registry.npmjs.org, "*.npm.test"]
  header: "Authorization: Bearer {token}"
  dummy: npm-dummy-0123
- name: forge
  file: /run/keys/forge
  hosts: git.test
  header: "Authorization: token {token}"
  dummy: forge-dummy-0123
)",
                                    "creds.yaml");
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].name, "npm");
    EXPECT_EQ(list[0].env, "NIXJAIL_TEST_NPM");
    EXPECT_EQ(list[0].hosts, (std::vector<std::string>{"registry.npmjs.org", "*.npm.test"}));
    EXPECT_EQ(list[0].origin, "creds.yaml:2:3");
    EXPECT_EQ(list[1].file, "/run/keys/forge");
    EXPECT_EQ(list[1].hosts, std::vector<std::string>{"git.test"});
}

void expectError(const std::string& yaml, const std::string& part) {
    try {
        parseCredentialList(yaml, "c.yaml");
        ADD_FAILURE() << "accepted: " << yaml;
    } catch (const base::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
        EXPECT_GT(e.line(), 0) << e.what();
    }
}

TEST(CredentialFile, RejectsIncompleteEntriesWithPositions) {
    const std::string tail = "  hosts: [a.test]\n  header: 'X: {token}'\n  dummy: dummy-123456\n";
    expectError("- env: X\n" + tail, "needs a 'name'");
    expectError("- name: a\n" + tail, "exactly one of 'env' or 'file'");
    expectError("- name: a\n  env: X\n  file: /y\n" + tail, "exactly one of 'env' or 'file'");
    expectError("- name: a\n  env: X\n  header: 'X: {token}'\n  dummy: dummy-123456\n",
                "needs 'hosts'");
    expectError("- name: a\n  env: X\n  hosts: [a]\n  header: 'X: tok'\n  dummy: dummy-123456\n",
                "{token}");
    expectError("- name: a\n  env: X\n  hosts: [a]\n  header: 'X: {token}'\n  dummy: short\n",
                "8 characters");
    expectError("- name: a\n  env: X\n  colour: red\n" + tail, "unknown key 'colour'");
    expectError("name: a\n", "list of credentials");
    expectError("- name: a\n  env: X\n" + tail + "- name: a\n  env: Y\n" + tail, "defined twice");
}

TEST(CredentialFile, ResolvesTheRealValueFromEnvOrFile) {
    base::TempDir dir;
    base::writeFile(dir.path() / "token", "file-token-value\n");
    base::writeFile(
        dir.path() / "creds.yaml",
        "- name: a\n  env: NIXJAIL_TEST_CRED_A\n  hosts: [a.test]\n  header: 'X-Token: {token}'\n"
        "  dummy: a-dummy-0123\n"
        "- name: b\n  file: " +
            (dir.path() / "token").string() +
            "\n  hosts: [b.test]\n  header: 'X-Token: {token}'\n  dummy: b-dummy-0123\n");
    ::setenv("NIXJAIL_TEST_CRED_A", "env-token-value", 1);
    auto creds = loadCredentialFile(dir.path() / "creds.yaml");
    ::unsetenv("NIXJAIL_TEST_CRED_A");
    ASSERT_EQ(creds.size(), 2u);
    EXPECT_EQ(creds[0].value.reveal(), "env-token-value");
    EXPECT_EQ(creds[0].header_template, "X-Token: {token}");
    EXPECT_EQ(creds[1].value.reveal(), "file-token-value");
    EXPECT_EQ(creds[1].dummy, "b-dummy-0123");
    // Unset variable: a clear error naming it.
    try {
        loadCredentialFile(dir.path() / "creds.yaml");
        ADD_FAILURE();
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("'NIXJAIL_TEST_CRED_A' is unset"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace nixjail::runner::network
