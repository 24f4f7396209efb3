// Daemon jobs that declare no packages get the devShell of their repository's flake at the task's
// commit: flake.nix comes from a real git repository through the checkout cache, and real Nix
// evaluates it (a flake without inputs, so no network is needed) and builds the root.
#include "runner/engine/nix_root_provider.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "workspace-cache/command_output.h"
#include "tests/integration/require.h"
#include "workspace-cache/git_test_repo.h"

namespace nixjail::runner::engine {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Single-user store as root, no sandbox (the builders use the host's /bin), no substituters.
cache::NixTools testNixTools() { return {{}, {"NIX_CONFIG=substituters =\nsandbox = false\n"}}; }

// A devShell of two tiny packages: `sh` (a copy of the host's dash, so the root has /bin/sh) and
// `hello`. Everything is inline: the checkout holds flake.nix only.
std::string devShellFlake(const std::string& system) {
    return R"N({
  outputs = { self }:
    let
      mk = name: script: derivation {
        inherit name;
        system = ")N" +
           system + R"N(";
        builder = "/bin/sh";
        args = [ "-c" script ];
      };
      sh = mk "nixjail-devshell-sh" "/bin/mkdir -p $out/bin && /bin/cp /bin/dash $out/bin/sh";
      hello = mk "nixjail-devshell-hello" "/bin/mkdir -p $out/bin && echo hello > $out/bin/hello";
    in {
      devShells.")N" +
           system + R"N(".default = derivation {
        name = "shell";
        system = ")N" +
           system + R"N(";
        builder = "/bin/sh";
        nativeBuildInputs = [ sh ];
        buildInputs = [ hello ];
      };
    };
}
)N";
}

class RepositoryDevShellTest : public ::testing::Test {
  protected:
    void SetUp() override {
        NIXJAIL_REQUIRE(::geteuid() == 0, "needs root to write the single-user Nix store");
        NIXJAIL_REQUIRE(::access("/usr/bin/nix", X_OK) == 0, "needs nix (apt install nix-bin)");
        remote_ =
            std::make_unique<cache::testing::GitTestRepo>(dir_.path() / "forge" / "owner" / "app");
        checkouts_ = std::make_unique<CachedCheckouts>(dir_.path() / "cache");
        roots_ = std::make_unique<NixRootProvider>(
            NixRootConfig{{}, dir_.path() / "cache", testNixTools()});
    }
    Json task(const std::string& sha) {
        return Json{{"server_url", "file://" + (dir_.path() / "forge").string()},
                    {"repository", "owner/app"},
                    {"sha", sha},
                    {"token", "task-token"}};
    }
    // A checkout provider that counts its calls.
    CheckoutProvider counted() {
        return [this](const CheckoutSpec& spec, const fs::path& dst) {
            ++checkout_calls_;
            last_spec_ = spec;
            return checkouts_->checkout(spec, dst);
        };
    }
    fs::path jobDir(const std::string& name) {
        fs::create_directories(dir_.path() / "jobs" / name);
        return dir_.path() / "jobs" / name;
    }
    base::TempDir dir_{"nixjail-devshell-"};
    std::unique_ptr<cache::testing::GitTestRepo> remote_;
    std::unique_ptr<CachedCheckouts> checkouts_;
    std::unique_ptr<NixRootProvider> roots_;
    int checkout_calls_ = 0;
    CheckoutSpec last_spec_;
};

bool storeHas(const fs::path& root, const std::string& suffix) {
    for (const auto& e : fs::directory_iterator(root / "nix" / "store")) {
        const std::string name = e.path().filename().string();
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            return true;
    }
    return false;
}

TEST_F(RepositoryDevShellTest, JobWithoutPackagesGetsTheFlakeDevShellAtTheTaskCommit) {
    const std::string system = cache::DevShellResolver::currentSystem();
    const std::string commit = remote_->commit(
        {{"flake.nix", devShellFlake(system)}, {"src/app.c", "int main;\n"}}, "with a devShell");
    RootProvider provider = roots_->forTask(task(commit), counted());

    auto root = provider({}, jobDir("1") / "root");
    EXPECT_EQ(checkout_calls_, 1);
    EXPECT_EQ(last_spec_.rev, commit);
    EXPECT_TRUE(last_spec_.sparse_paths.empty()) << "the whole tree: a flake may import its files";
    EXPECT_EQ(last_spec_.token, "task-token");
    EXPECT_EQ(root->source(), "the devShell of flake.nix in file://" +
                                  (dir_.path() / "forge").string() + "/owner/app at " +
                                  commit.substr(0, 12) + " (2 packages)");
    EXPECT_TRUE(storeHas(root->root(), "-nixjail-devshell-sh"));
    EXPECT_TRUE(storeHas(root->root(), "-nixjail-devshell-hello"));
    EXPECT_TRUE(fs::exists(root->root() / "bin" / "sh"));
    EXPECT_FALSE(fs::exists(jobDir("1") / "root-flake"))
        << "the flake checkout is removed once resolved";

    // What replay compares: the closure's key; a devShell alone needs no nixpkgs.
    EXPECT_EQ(root->origin().closure_key.size(), 64u) << root->origin().closure_key;
    EXPECT_TRUE(root->origin().nixpkgs.empty()) << root->origin().nixpkgs;

    // The next job of the same commit: resolved from memory, no checkout, the cached root.
    auto again = provider({}, jobDir("2") / "root");
    EXPECT_EQ(checkout_calls_, 1);
    EXPECT_TRUE(again->cacheHit());
    EXPECT_EQ(again->origin().closure_key, root->origin().closure_key);
}

TEST_F(RepositoryDevShellTest, RepositoryWithoutFlakeBehavesAsBefore) {
    const std::string commit = remote_->commit({{"README", "no flake\n"}}, "plain");
    RootProvider provider = roots_->forTask(task(commit), counted());
    try {
        provider({}, jobDir("1") / "root");
        FAIL() << "a root without packages was made";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("the job declares no Nix packages"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(checkout_calls_, 1);
    EXPECT_FALSE(fs::exists(jobDir("1") / "root-flake"));
    EXPECT_FALSE(fs::exists(jobDir("1") / "root"));
}

TEST_F(RepositoryDevShellTest, RepositoryWithoutFlakeGetsItsLabelsDefaultSet) {
    const std::string commit = remote_->commit({{"README", "no flake\n"}}, "plain");
    NixRootConfig config{NIXJAIL_SOURCE_DIR "/tests/fixtures/nix", dir_.path() / "cache", testNixTools()};
    config.default_packages.prepend("ubuntu-*", {"bash"});
    NixRootProvider roots(std::move(config));
    RootProvider provider = roots.forTask(task(commit), counted());
    auto root = provider(RootRequest{.labels = {"ubuntu-latest"}}, jobDir("1") / "root");
    EXPECT_EQ(checkout_calls_, 1) << "the repository's flake is looked for first";
    EXPECT_EQ(root->source(),
              "the default packages of runs-on label 'ubuntu-latest' (as 'ubuntu-*'): bash (the job "
              "declares no packages and the repository has no flake devShell)");
    EXPECT_TRUE(storeHas(root->root(), "-nixjail-test-bash"));
    EXPECT_EQ(root->origin().nixpkgs, NIXJAIL_SOURCE_DIR "/tests/fixtures/nix");
    EXPECT_FALSE(root->origin().nixpkgs_identity.empty());
    // A label without a set fails with the label's name.
    try {
        provider(RootRequest{.labels = {"macos-latest"}}, jobDir("2") / "root");
        FAIL() << "a label without a default set gave a root";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("runs-on label 'macos-latest' has no default package set"),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(RepositoryDevShellTest, ExtraPackagesAreAddedToTheDevShell) {
    const std::string system = cache::DevShellResolver::currentSystem();
    const std::string commit = remote_->commit({{"flake.nix", devShellFlake(system)}}, "with a devShell");
    NixRootProvider roots(
        NixRootConfig{NIXJAIL_SOURCE_DIR "/tests/fixtures/nix", dir_.path() / "cache", testNixTools()});
    RootProvider provider = roots.forTask(task(commit), counted());
    auto root = provider(RootRequest{.extra = {"curl"}}, jobDir("1") / "root");
    EXPECT_TRUE(storeHas(root->root(), "-nixjail-devshell-hello"));
    EXPECT_TRUE(storeHas(root->root(), "-nixjail-test-curl"));
    EXPECT_NE(root->source().find("(2 packages), plus curl"), std::string::npos) << root->source();
}

TEST_F(RepositoryDevShellTest, DeclaredPackagesWinAndTheFlakeIsNotFetched) {
    const std::string commit = remote_->commit({{"flake.nix", devShellFlake("x86_64-linux")}}, "c");
    RootProvider provider = roots_->forTask(task(commit), counted());
    // No nixpkgs configured: declared packages cannot resolve, and say so (as without a task).
    EXPECT_THROW(provider(RootRequest{.packages = {"bash"}}, jobDir("1") / "root"), base::Error);
    EXPECT_EQ(checkout_calls_, 0);
}

TEST_F(RepositoryDevShellTest, BrokenFlakeNamesTheRepositoryAndCommit) {
    const std::string commit =
        remote_->commit({{"flake.nix", "{ outputs = { self }: { }; }\n"}}, "no devShell");
    RootProvider provider = roots_->forTask(task(commit), counted());
    try {
        provider({}, jobDir("1") / "root");
        FAIL() << "a flake without a devShell gave a root";
    } catch (const base::Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(
            msg.find("the devShell of flake.nix in 'file://" + (dir_.path() / "forge").string() +
                     "/owner/app' at " + commit + ": cannot read the devShell"),
            std::string::npos)
            << msg;
    }
    EXPECT_FALSE(fs::exists(jobDir("1") / "root-flake"));
}

// A nixpkgs of our own (two tiny packages built from the host's /bin) and the real Nix tools
// behind wrappers that log every call, so a test sees whether Nix was asked at all.
class RememberedClosureTest : public ::testing::Test {
  protected:
    void SetUp() override {
        NIXJAIL_REQUIRE(::geteuid() == 0, "needs root to write the single-user Nix store");
        NIXJAIL_REQUIRE(::access("/usr/bin/nix-build", X_OK) == 0,
                        "needs nix-build (apt install nix-bin)");
        fs::create_directories(bin_);
        for (const char* tool : {"nix", "nix-build", "nix-store", "nix-instantiate"}) {
            base::writeFileAtomic(bin_ / tool,
                                  std::string("#!/bin/sh\necho \"$0 $*\" >> ") + log_.string() +
                                      "\nexec /usr/bin/" + tool + " \"$@\"\n",
                                  0755);
        }
        writeNixpkgs("hello-1");
    }
    void writeNixpkgs(const std::string& greeting) {
        fs::create_directories(nixpkgs_);
        base::writeFile(nixpkgs_ / "default.nix",
                        "{ ... }:\nlet mk = name: script: derivation { inherit name; system = \"" +
                            cache::DevShellResolver::currentSystem() +
                            "\"; builder = \"/bin/sh\"; args = [ \"-c\" script ]; };\n"
                            "in {\n"
                            "  sh = mk \"nixjail-memo-sh\" \"/bin/mkdir -p $out/bin && /bin/cp /bin/dash $out/bin/sh\";\n"
                            "  hello = mk \"nixjail-memo-hello\" \"/bin/mkdir -p $out/bin && echo " +
                            greeting + " > $out/bin/hello\";\n}\n");
    }
    std::unique_ptr<NixRootProvider> provider() {
        return std::make_unique<NixRootProvider>(NixRootConfig{
            nixpkgs_, dir_.path() / "cache", {bin_, {"NIX_CONFIG=substituters =\nsandbox = false\n"}}});
    }
    size_t nixCalls() {
        return fs::exists(log_) ? cache::outputLines(base::readFile(log_)).size() : 0;
    }
    fs::path job(const std::string& name) {
        fs::create_directories(dir_.path() / "jobs" / name);
        return dir_.path() / "jobs" / name / "root";
    }
    base::TempDir dir_{"nixjail-memo-"};
    fs::path bin_ = dir_.path() / "bin";
    fs::path log_ = dir_.path() / "nix-calls.log";
    fs::path nixpkgs_ = dir_.path() / "nixpkgs";
};

TEST_F(RememberedClosureTest, AKnownPackageSetNeedsNoNixCallInALaterProcess) {
    const RootRequest request{.packages = {"sh", "hello"}};
    auto once = provider();
    auto first = once->provide(request, job("1"));
    EXPECT_FALSE(first->timings().closure_remembered);
    const size_t calls = nixCalls();
    EXPECT_GT(calls, 0u);
    // nix-build once, the reference graph and the sizes once each: no call per package.
    EXPECT_LE(calls, 4u) << base::readFile(log_);

    auto later = provider();  // a new process, as a later `exec` is
    auto second = later->provide(request, job("2"));
    EXPECT_TRUE(second->timings().closure_remembered);
    EXPECT_EQ(nixCalls(), calls) << base::readFile(log_);
    EXPECT_EQ(second->timings().closure_paths, first->timings().closure_paths);
    EXPECT_GT(second->timings().closure_bytes, 0u);
    EXPECT_EQ(second->timings().closure_bytes, first->timings().closure_bytes);
    EXPECT_TRUE(second->cacheHit());
    EXPECT_TRUE(storeHas(second->root(), "-nixjail-memo-hello"));
}

TEST_F(RememberedClosureTest, AnEditedNixpkgsIsEvaluatedAgain) {
    const RootRequest request{.packages = {"sh", "hello"}};
    auto once = provider();
    auto first = once->provide(request, job("1"));
    writeNixpkgs("hello-2");
    auto later = provider();
    auto edited = later->provide(request, job("2"));
    EXPECT_FALSE(edited->timings().closure_remembered);
    EXPECT_FALSE(edited->cacheHit()) << "a new hello makes a new closure";
    std::string hello;
    for (const auto& e : fs::directory_iterator(edited->root() / "nix" / "store"))
        if (e.path().filename().string().ends_with("-nixjail-memo-hello")) hello = e.path().string();
    ASSERT_FALSE(hello.empty());
    EXPECT_EQ(base::readFile(edited->root() / hello.substr(edited->root().string().size() + 1) / "bin/hello"),
              "hello-2\n");
}

TEST_F(RememberedClosureTest, AnswersNamingCollectedPathsAreResolvedAgain) {
    const RootRequest request{.packages = {"sh", "hello"}};
    std::string hello;
    {
        auto once = provider();
        auto first = once->provide(request, job("1"));
        for (const auto& e : fs::directory_iterator(first->root() / "nix" / "store"))
            if (e.path().filename().string().ends_with("-nixjail-memo-hello"))
                hello = "/nix/store/" + e.path().filename().string();
    }
    // What nix-collect-garbage leaves: the memo's hello is gone from the store.
    ASSERT_FALSE(hello.empty());
    const auto r = cache::runCommand({"/usr/bin/nix-store", "--delete", hello},
                                     {"NIX_CONFIG=substituters =\nsandbox = false\n"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const size_t calls = nixCalls();
    auto later = provider();
    auto again = later->provide(request, job("2"));
    EXPECT_FALSE(again->timings().closure_remembered);
    EXPECT_GT(nixCalls(), calls);
    EXPECT_TRUE(fs::exists(hello)) << "nix-build made it again";
}

// An executor that overlays the root itself (the namespace jail) asks for it shared: the job gets
// the cached root in place, pinned, and nothing is made for it; the jails must reach it.
TEST_F(RememberedClosureTest, ASharedRootIsTheCachedRootItselfWhereJailsReachIt) {
    ::chmod(dir_.path().c_str(), 0755);  // as the default /var/cache/nixjail-runner is
    const RootRequest request{.packages = {"sh", "hello"}, .shared = true};
    auto roots = provider();
    auto first = roots->provide(request, job("1"));
    auto second = roots->provide(request, job("2"));
    EXPECT_EQ(first->root().parent_path(), dir_.path() / "cache" / "roots");
    EXPECT_EQ(first->root(), second->root());
    EXPECT_FALSE(fs::exists(job("1"))) << "nothing is made for a job that shares its root";
    EXPECT_TRUE(storeHas(first->root(), "-nixjail-memo-hello"));
    // A job that may write its root still gets a tree of its own.
    auto own = roots->provide({.packages = {"sh", "hello"}}, job("3"));
    EXPECT_EQ(own->root(), job("3"));
    EXPECT_TRUE(storeHas(own->root(), "-nixjail-memo-hello"));
}

TEST_F(RememberedClosureTest, ASharedRootBelowADirectoryJailsCannotTraverseIsTheJobsOwn) {
    ASSERT_EQ(fs::status(dir_.path()).permissions() & fs::perms::others_exec, fs::perms::none);
    auto roots = provider();
    auto job1 = roots->provide({.packages = {"sh", "hello"}, .shared = true}, job("1"));
    EXPECT_EQ(job1->root(), job("1"));
    EXPECT_TRUE(storeHas(job1->root(), "-nixjail-memo-hello"));
}

}  // namespace
}  // namespace nixjail::runner::engine
