// End-to-end `exec` as a debugger, in the namespace jail with Nix roots: --keep-failed keeps a
// failed job for `shell` and `kept rm` releases it without a trace; --break-on-failure opens a
// shell at the failed step on the user's terminal (driven here through a pty). Needs root and Nix.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "e2e_run.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::TempDir;
using nixjail::e2e::has;
using nixjail::e2e::mountsUnder;
using nixjail::e2e::runBinary;
using Json = nlohmann::json;

#define REQUIRE_ROOT_AND_NIX() NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing())

// Step 1 leaves a file, step 2 fails; a secret bound to a host reaches the job as a placeholder.
constexpr const char* kFailingWorkflow = R"Y(on: push
env:
  NIXJAIL_PACKAGES: bash coreutils
  GREETING: hello-from-the-job
jobs:
  test:
    runs-on: nix
    steps:
      - name: Write a result
        run: echo "from step one" > result.txt
      - name: Fail
        env:
          TOKEN: ${{ secrets.TOKEN }}
        run: exit 3
)Y";

constexpr const char* kRealToken = "real-token-value-5d1f";

class KeptJobE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        REQUIRE_ROOT_AND_NIX();
        nixjail::base::writeFile(repo_.path() / "w.yml", kFailingWorkflow);
    }
    void TearDown() override {
        // Whatever a failed assertion left kept goes now: no keeper outlives the test.
        if (::geteuid() == 0) kept({"rm", "--all"});
    }

    nixjail::e2e::Run exec(std::vector<std::string> extra) {
        std::vector<std::string> args{"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                                      (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                                      cache_.path().string(), "--secret", std::string("TOKEN=") + kRealToken,
                                      "--secret-host", "TOKEN=example.test", "--no-color"};
        args.insert(args.end(), extra.begin(), extra.end());
        return runBinary(args, repo_.path(), nixjail::e2e::nixEnv());
    }
    nixjail::e2e::Run kept(std::vector<std::string> args) {
        args.insert(args.begin(), "kept");
        args.insert(args.end(), {"--cache-dir", cache_.path().string()});
        return runBinary(args, repo_.path());
    }
    nixjail::e2e::Run shell(const std::string& id, std::vector<std::string> args) {
        args.insert(args.begin(), {"shell", id, "--cache-dir", cache_.path().string()});
        return runBinary(args, repo_.path());
    }
    Json keptList() {
        auto r = kept({"list", "--json"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return Json::parse(r.out);
    }

    TempDir repo_{"nixjail-e2e-kept-"};
    TempDir cache_{"nixjail-e2e-cache-"};
};

TEST_F(KeptJobE2E, AFailedJobIsKeptForAShellAndKeptRmLeavesNothing) {
    auto run = exec({"--keep-failed"});
    ASSERT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_TRUE(has(run.out, "Kept job 'test' (failure, step 2: Fail) as test-")) << run.out;
    EXPECT_TRUE(has(run.out, "nixjail-runner shell test-")) << run.out;
    Json list = keptList();
    ASSERT_EQ(list.size(), 1u) << list;
    const std::string id = list[0]["id"];
    const fs::path jobDir = list[0]["job_dir"].get<std::string>();
    ASSERT_TRUE(list[0]["keeper"].is_number()) << list;
    const pid_t keeper = list[0]["keeper"].get<int>();
    EXPECT_EQ(list[0]["result"], "failure");
    EXPECT_EQ(list[0]["step"], "2: Fail");
    EXPECT_FALSE(mountsUnder(jobDir).empty()) << "the job's root stays mounted while kept";
    // The keeper writes nothing secret: its entry and log hold no secret value.
    size_t files = 0;
    for (const auto& f : fs::recursive_directory_iterator(cache_.path() / "kept")) {
        if (!f.is_regular_file()) continue;
        ++files;
        EXPECT_FALSE(has(nixjail::base::readFile(f.path()), kRealToken)) << f.path();
    }
    EXPECT_GE(files, 2u) << "kept.json and the keeper's log";

    // The first step's file, in the workspace as the failing step left it.
    auto cat = shell(id, {"--", "cat", "result.txt"});
    EXPECT_EQ(cat.exit_code, 0) << cat.err;
    EXPECT_EQ(cat.out, "from step one\n");
    // The failed step's environment: the job's env, its working directory, its user, the proxy,
    // and the secret bound to a host as the job saw it (a placeholder, never the real value).
    auto env = shell(id, {"--", "sh", "-c", "echo $GREETING; pwd; id -u; echo $HTTPS_PROXY; echo token=$TOKEN; exit 7"});
    EXPECT_EQ(env.exit_code, 7) << env.err;
    EXPECT_TRUE(has(env.out, "hello-from-the-job\n/workspace\n1000\nhttp://127.0.0.1:")) << env.out;
    EXPECT_TRUE(has(env.out, "token=")) << env.out;
    EXPECT_FALSE(has(env.out, "token=\n")) << "the placeholder is there: " << env.out;
    EXPECT_FALSE(has(env.out, kRealToken)) << env.out;
    // The job's proxy is still its only way out, with its policy, and says what it decided.
    auto net = shell(id, {"--", "bash", "-c",
                          "exec 3<>/dev/tcp/127.0.0.1/${HTTPS_PROXY##*:}; "
                          "printf 'GET http://example.org/x HTTP/1.1\\r\\nHost: example.org\\r\\nConnection: close\\r\\n\\r\\n' >&3; "
                          "head -1 <&3"});
    EXPECT_TRUE(has(net.out, "HTTP/1.1 403")) << net.out << net.err;
    EXPECT_TRUE(has(net.err, "network: denied GET http://example.org/x")) << net.err;
    // Steps again from step 1 up to the failing one, then the command.
    auto again = shell(id, {"--step", "1", "--", "cat", "result.txt"});
    EXPECT_TRUE(has(again.out, "--- Write a result: success")) << again.out;
    EXPECT_TRUE(has(again.out, "--- Fail: failure")) << again.out;
    EXPECT_TRUE(has(again.out, "from step one")) << again.out;
    auto badStep = shell(id, {"--step", "3", "--", "true"});
    EXPECT_EQ(badStep.exit_code, 1);
    EXPECT_TRUE(has(badStep.err, "--step 3 is out of range")) << badStep.err;

    auto rm = kept({"rm", id});
    EXPECT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_TRUE(has(rm.out, "released '" + id + "'")) << rm.out;
    // Nothing is left: no mount, directory, keeper process, entry or log.
    EXPECT_TRUE(mountsUnder(jobDir).empty());
    EXPECT_FALSE(fs::exists(jobDir));
    for (int i = 0; i < 100 && ::kill(keeper, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_NE(::kill(keeper, 0), 0) << "the keeper " << keeper << " is still running";
    EXPECT_TRUE(fs::is_empty(cache_.path() / "kept"));
    auto gone = shell(id, {"--", "true"});
    EXPECT_EQ(gone.exit_code, 1);
    EXPECT_TRUE(has(gone.err, "no kept job '" + id + "'")) << gone.err;
}

// A keeper killed outright leaves its job's mounts and directory; `kept` says so and `kept rm`
// removes them.
TEST_F(KeptJobE2E, WhatAKilledKeeperLeftIsRemovedByKeptRm) {
    auto run = exec({"--keep"});
    ASSERT_EQ(run.exit_code, 1) << run.out << run.err;
    Json list = keptList();
    ASSERT_EQ(list.size(), 1u) << list;
    const std::string id = list[0]["id"];
    const fs::path jobDir = list[0]["job_dir"].get<std::string>();
    const pid_t keeper = list[0]["keeper"].get<int>();
    ASSERT_EQ(::kill(keeper, SIGKILL), 0);
    for (int i = 0; i < 100 && ::kill(keeper, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(keptList()[0]["keeper"].is_null());
    auto shellAfter = shell(id, {"--", "true"});
    EXPECT_EQ(shellAfter.exit_code, 1);
    EXPECT_TRUE(has(shellAfter.err, "is gone")) << shellAfter.err;
    auto rm = kept({"rm", "--all"});
    EXPECT_EQ(rm.exit_code, 0) << rm.err;
    EXPECT_TRUE(has(rm.out, "its keeper had gone")) << rm.out;
    EXPECT_TRUE(mountsUnder(jobDir).empty());
    EXPECT_FALSE(fs::exists(jobDir));
}

// A budget smaller than the job: it is not kept, and everything is released as usual.
TEST_F(KeptJobE2E, AJobLargerThanTheBudgetIsNotKept) {
    auto run = exec({"--keep-failed", "--keep-budget", "1"});
    ASSERT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_TRUE(has(run.out, "The job's jail is not kept: its ")) << run.out;
    EXPECT_TRUE(has(run.out, "exceed the kept jobs' budget")) << run.out;
    EXPECT_TRUE(keptList().empty());
}

TEST(KeptJobNeedsAJail, TheHostExecutorSaysItHasNone) {
    TempDir repo("nixjail-e2e-kept-");
    nixjail::base::writeFile(repo.path() / "w.yml", kFailingWorkflow);
    for (const char* flag : {"--keep-failed", "--break-on-failure"}) {
        auto r = runBinary({"exec", "-W", "w.yml", "--executor", "host", flag}, repo.path());
        EXPECT_EQ(r.exit_code, 1) << r.out;
        EXPECT_TRUE(has(r.err, std::string(flag) + " opens a shell in the job's jail, which the 'host' executor cannot do (it has no jail)"))
            << r.err;
    }
}

// A program on a pty: what it writes, and answers typed when a text appears.
class PtySession {
  public:
    PtySession(std::vector<std::string> argv, const fs::path& cwd, std::vector<std::string> env) {
        std::vector<char*> a, e;
        for (auto& s : argv) a.push_back(s.data());
        a.push_back(nullptr);
        for (auto& s : env) e.push_back(s.data());
        e.push_back(nullptr);
        pid_ = ::forkpty(&master_, nullptr, nullptr, nullptr);
        if (pid_ == 0) {
            if (::chdir(cwd.c_str()) != 0) ::_exit(126);
            ::execve(a[0], a.data(), e.data());
            ::_exit(127);
        }
    }
    ~PtySession() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (master_ >= 0) ::close(master_);
    }
    bool waitFor(const std::string& text, std::chrono::seconds limit = std::chrono::seconds(60)) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (out_.find(text, seen_) == std::string::npos) {
            if (std::chrono::steady_clock::now() > end || !readSome(200)) return false;
        }
        seen_ = out_.find(text, seen_) + text.size();
        return true;
    }
    void type(const std::string& text) { ASSERT_EQ(::write(master_, text.data(), text.size()), static_cast<ssize_t>(text.size())); }
    int exitCode() {
        while (readSome(200)) {
        }
        int status = 0;
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    const std::string& output() const { return out_; }

  private:
    bool readSome(int ms) {
        pollfd p{master_, POLLIN, 0};
        if (::poll(&p, 1, ms) < 0) return false;
        if (!(p.revents & (POLLIN | POLLHUP))) return true;
        char buf[4096];
        const ssize_t n = ::read(master_, buf, sizeof buf);
        if (n <= 0) return false;  // EIO: the program and its children closed the terminal
        out_.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    int master_ = -1;
    pid_t pid_ = -1;
    bool reaped_ = false;
    std::string out_;
    std::size_t seen_ = 0;
};

TEST_F(KeptJobE2E, AnInteractiveShellRunsOnATerminal) {
    auto run = exec({"--keep-failed"});
    ASSERT_EQ(run.exit_code, 1) << run.out << run.err;
    const std::string id = keptList()[0]["id"];
    PtySession pty({NIXJAIL_BINARY, "shell", id, "--cache-dir", cache_.path().string()}, repo_.path(),
                   nixjail::e2e::baseEnv());
    ASSERT_TRUE(pty.waitFor("[nixjail test] /workspace$ ")) << pty.output();
    pty.type("cat result.txt; test -t 0 && echo on-a-terminal\n");
    EXPECT_TRUE(pty.waitFor("from step one")) << pty.output();
    EXPECT_TRUE(pty.waitFor("on-a-terminal")) << pty.output();
    pty.type("exit 4\n");
    EXPECT_EQ(pty.exitCode(), 4) << pty.output();
}

// `exec --break-on-failure` of `workflow` on a pty.
class BreakOnFailureE2E : public ::testing::Test {
  protected:
    void SetUp() override { REQUIRE_ROOT_AND_NIX(); }
    std::unique_ptr<PtySession> exec(const std::string& workflow) {
        nixjail::base::writeFile(repo_.path() / "w.yml", workflow);
        return std::make_unique<PtySession>(
            std::vector<std::string>{NIXJAIL_BINARY, "exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                                     (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                                     cache_.path().string(), "--break-on-failure", "--no-color"},
            repo_.path(), nixjail::e2e::nixEnv());
    }
    TempDir repo_{"nixjail-e2e-break-"};
    TempDir cache_{"nixjail-e2e-cache-"};
};

// --break-on-failure: the shell at the failed step fixes what it needs, and the retry succeeds.
TEST_F(BreakOnFailureE2E, ShellThenRetryMakesTheStepPass) {
    auto session = exec(R"Y(on: push
env:
  NIXJAIL_PACKAGES: bash coreutils
jobs:
  test:
    runs-on: nix
    steps:
      - name: Needs a fix
        run: test -f fixed && echo fixed-now
      - name: After
        run: echo after-ran
)Y");
    PtySession& pty = *session;
    ASSERT_TRUE(pty.waitFor("--break-on-failure: step 'Needs a fix' failed")) << pty.output();
    ASSERT_TRUE(pty.waitFor("$ ")) << pty.output();
    pty.type("touch fixed; exit\n");
    ASSERT_TRUE(pty.waitFor("[a]bort the job? ")) << pty.output();
    pty.type("what\n");  // not an answer: asked again
    ASSERT_TRUE(pty.waitFor("answer r, c, i, s or a")) << pty.output();
    ASSERT_TRUE(pty.waitFor("[a]bort the job? ")) << pty.output();
    pty.type("r\n");
    EXPECT_TRUE(pty.waitFor("fixed-now")) << pty.output();
    EXPECT_TRUE(pty.waitFor("after-ran")) << pty.output();
    EXPECT_EQ(pty.exitCode(), 0) << pty.output();
    EXPECT_TRUE(has(pty.output(), "job test: success")) << pty.output();
}

// Abort at the prompt: the job stops there, the next step does not run.
TEST_F(BreakOnFailureE2E, AbortStopsTheJob) {
    auto session = exec(R"Y(on: push
env:
  NIXJAIL_PACKAGES: bash coreutils
jobs:
  test:
    runs-on: nix
    steps:
      - run: exit 1
      - if: always()
        run: echo after-ran
)Y");
    PtySession& pty = *session;
    ASSERT_TRUE(pty.waitFor("$ ")) << pty.output();
    pty.type("exit\n");
    ASSERT_TRUE(pty.waitFor("[a]bort the job? ")) << pty.output();
    pty.type("a\n");
    EXPECT_NE(pty.exitCode(), 0) << pty.output();
    EXPECT_TRUE(has(pty.output(), "aborted at the failed step")) << pty.output();
}

}  // namespace
