// exec's saved defaults: the keys, relative paths, what a repository's file may not decide, and the
// precedence of the user's file, the repository's and (in cmd_exec.cc) the command line.
#include "runner/cli/saved_defaults.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::cli {
namespace {

namespace fs = std::filesystem;

std::string problems(const std::string& text) {
    try {
        parseSavedDefaults(text, "config.yaml", "/home/me/.config/nixjail-runner", false);
    } catch (const base::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no problem found in: " << text;
    return {};
}

TEST(SavedDefaults, EveryKeyOfTheUsersFile) {
    const auto d = parseSavedDefaults(R"(
packages: [bash, coreutils]
nixpkgs: ../../nixpkgs
default_packages:
  ubuntu-*: [bash, git]
  macos-latest: bash coreutils
secret_file: secrets.env
executor: namespace
profile: jit-runtime
policy: /etc/policy.yaml
credential_file: creds.yaml
cache_dir: /srv/cache
)",
                                      "config.yaml", "/home/me/.config/nixjail-runner", false);
    EXPECT_EQ(d.packages, "bash coreutils");
    EXPECT_EQ(d.nixpkgs, "/home/me/nixpkgs");
    EXPECT_EQ(d.nixpkgs_from, "nixpkgs in config.yaml");
    using Entry = std::pair<std::string, std::vector<std::string>>;
    EXPECT_EQ(d.default_packages,
              (std::vector<Entry>{{"ubuntu-*", {"bash", "git"}}, {"macos-latest", {"bash", "coreutils"}}}));
    EXPECT_EQ(d.secret_files, std::vector<std::string>{"/home/me/.config/nixjail-runner/secrets.env"});
    EXPECT_EQ(d.executor, "namespace");
    EXPECT_EQ(d.profile, "jit-runtime");
    EXPECT_EQ(d.policy, "/etc/policy.yaml");
    EXPECT_EQ(d.credential_file, "/home/me/.config/nixjail-runner/creds.yaml");
    EXPECT_EQ(d.cache_dir, "/srv/cache");
    EXPECT_TRUE(d.warnings.empty());
}

TEST(SavedDefaults, NixpkgsIsWrittenAsNixTakesIt) {
    EXPECT_EQ(parseSavedDefaults("nixpkgs: <nixpkgs>\n", "c.yaml", "/x", false).nixpkgs, "<nixpkgs>");
    EXPECT_EQ(parseSavedDefaults("nixpkgs: channel:nixos-24.11\n", "c.yaml", "/x", false).nixpkgs,
              "channel:nixos-24.11");
}

TEST(SavedDefaults, UnknownKeysAndBadValuesAreErrorsWithTheirPlace) {
    const auto text = problems("packges: [bash]\ndefault_packages: [bash]\nexecutor: [a, b]\n");
    EXPECT_NE(text.find("config.yaml:1:1: unknown setting 'packges'; did you mean 'packages'?"), std::string::npos)
        << text;
    EXPECT_NE(text.find("config.yaml:2:19: 'default_packages' must map runs-on labels"), std::string::npos) << text;
    EXPECT_NE(text.find("config.yaml:3:11: 'executor' must be a single value"), std::string::npos) << text;
    EXPECT_NE(problems("- a\n").find("must be a mapping"), std::string::npos);
    EXPECT_NE(problems("packages: [a\n").find("config.yaml:"), std::string::npos);
}

TEST(SavedDefaults, ARepositorysFileCannotChooseItsIsolation) {
    base::TempDir repo;
    base::writeFile(repo.path() / ".secrets", "A=1\n");
    fs::create_symlink("/etc", repo.path() / "etc-link");
    const auto d = parseSavedDefaults(R"(packages: bash
default_packages: {linux: [bash]}
nixpkgs: ./nix/evil.nix
executor: host
profile: jit-runtime
policy: allow-all.yaml
credential_file: c.yaml
cache_dir: /tmp/c
secret_file: [.secrets, ../outside.env, etc-link/shadow]
)",
                                      ".nixjail-runner.yaml", repo.path(), true, repo.path());
    EXPECT_EQ(d.packages, "bash");
    EXPECT_EQ(d.default_packages.size(), 1u);
    EXPECT_EQ(d.secret_files, std::vector<std::string>{(repo.path() / ".secrets").string()});
    EXPECT_FALSE(d.nixpkgs);
    EXPECT_FALSE(d.executor);
    EXPECT_FALSE(d.profile);
    EXPECT_FALSE(d.policy);
    EXPECT_FALSE(d.credential_file);
    EXPECT_FALSE(d.cache_dir);
    std::string all;
    for (const auto& w : d.warnings) all += w + "\n";
    EXPECT_EQ(d.warnings.size(), 8u) << all;
    EXPECT_NE(all.find(".nixjail-runner.yaml:4:1: 'executor' is ignored in a repository's file (a repository may "
                       "not choose how its jobs are isolated or what they reach); set it in "),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("'nixpkgs: ./nix/evil.nix' is ignored"), std::string::npos) << all;
    EXPECT_NE(all.find("'secret_file: ../outside.env' is ignored in a repository's file (it is outside the "
                       "repository)"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("'secret_file: etc-link/shadow' is ignored"), std::string::npos) << all;
    // A lookup path or a channel is the user's Nix setting or nixos.org's, not repository code.
    EXPECT_EQ(parseSavedDefaults("nixpkgs: <nixpkgs>\n", "r.yaml", repo.path(), true, repo.path()).nixpkgs,
              "<nixpkgs>");
}

TEST(SavedDefaults, TheRepositorysFileWinsOverTheUsers) {
    SavedDefaults user, own;
    user.packages = "bash";
    user.nixpkgs = "/srv/nixpkgs";
    user.nixpkgs_from = "nixpkgs in user";
    user.executor = "namespace";
    user.default_packages = {{"linux", {"bash"}}};
    user.secret_files = {"/u.env"};
    own.packages = "bash git";
    own.default_packages = {{"ubuntu-*", {"git"}}};
    own.secret_files = {"/r/.secrets"};
    const auto d = mergeSavedDefaults(user, own);
    EXPECT_EQ(d.packages, "bash git");
    EXPECT_EQ(d.nixpkgs, "/srv/nixpkgs");
    EXPECT_EQ(d.nixpkgs_from, "nixpkgs in user");
    EXPECT_EQ(d.executor, "namespace");
    using Entry = std::pair<std::string, std::vector<std::string>>;
    EXPECT_EQ(d.default_packages, (std::vector<Entry>{{"ubuntu-*", {"git"}}, {"linux", {"bash"}}}));
    EXPECT_EQ(d.secret_files, (std::vector<std::string>{"/u.env", "/r/.secrets"}));
}

TEST(SavedDefaults, LoadsTheUsersFileThenTheRepositorys) {
    base::TempDir home, repo;
    ::setenv("XDG_CONFIG_HOME", (home.path() / "config").c_str(), 1);
    EXPECT_EQ(userDefaultsFile(), home.path() / "config/nixjail-runner/config.yaml");
    EXPECT_FALSE(loadSavedDefaults(repo.path()).packages) << "no file, no defaults";
    fs::create_directories(home.path() / "config/nixjail-runner");
    base::writeFile(home.path() / "config/nixjail-runner/config.yaml", "packages: bash\nnixpkgs: pkgs\n");
    base::writeFile(repo.path() / ".nixjail-runner.yaml", "packages: [bash, jq]\n");
    const auto d = loadSavedDefaults(repo.path());
    EXPECT_EQ(d.packages, "bash jq");
    EXPECT_EQ(d.nixpkgs, (home.path() / "config/nixjail-runner/pkgs").string());
    // A repository's file that is a link is not read.
    fs::remove(repo.path() / ".nixjail-runner.yaml");
    fs::create_symlink(home.path() / "config/nixjail-runner/config.yaml", repo.path() / ".nixjail-runner.yaml");
    const auto linked = loadSavedDefaults(repo.path());
    EXPECT_EQ(linked.packages, "bash");
    ASSERT_EQ(linked.warnings.size(), 1u);
    EXPECT_NE(linked.warnings[0].find("is a symbolic link"), std::string::npos);
    ::unsetenv("XDG_CONFIG_HOME");
}

}  // namespace
}  // namespace nixjail::runner::cli
