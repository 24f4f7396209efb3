// The daemon's end-to-end fixture: a registered runner against the fake forge (tests/support), its
// configuration, the daemon process, and helpers shared by the daemon and replay e2e tests.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "e2e_run.h"
#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "tests/support/fake_forge_server.h"

namespace nixjail::e2e {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using base::ChildProcess;
using base::TempDir;
using Clock = std::chrono::steady_clock;

inline std::string logText(const Json& task) {
    std::string out;
    for (const auto& row : task["log"]) out += row.value("content", "") + "\n";
    return out;
}

// Config for the namespace jail whose "nix" label gets `packages` (a YAML list's items) from
// examples/nix, followed by `extra`.
inline std::string jailedNixConfig(const std::string& packages, const std::string& extra = "") {
    return "executor: {backend: " + nixjail::e2e::jailBackend() +
           "}\nnix: {nixpkgs: " + (nixjail::e2e::kSource / "examples/nix").string() +
           "}\nlabels:\n  nix: {packages: [" + packages + "]}\n" + extra;
}

class DaemonE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        // The cache directory (and the jobs' directories in it) must be reachable by the jails.
        std::filesystem::permissions(dir_.path(), std::filesystem::perms::others_exec,
                                     std::filesystem::perm_options::add);
        auto r = runBinary({"register", "--instance", forge_.url(), "--token",
                            "0123456789abcdef0123456789abcdef01234567", "--name", "e2e", "--labels",
                            "nix", "--no-interactive", "--runner-file",
                            (dir_.path() / ".runner").string()});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        writeConfig();
    }
    // A daemon a failed assertion left running gets SIGTERM first, so that it removes its
    // temp dirs, and SIGKILL only if it has not exited within 20 s.
    void TearDown() override {
        if (!daemon_.running()) return;
        ::kill(daemon_.pid(), SIGTERM);
        const auto deadline = Clock::now() + std::chrono::seconds(20);
        siginfo_t info{};
        while (Clock::now() < deadline) {
            info.si_pid = 0;
            if (::waitid(P_PID, static_cast<id_t>(daemon_.pid()), &info,
                         WEXITED | WNOHANG | WNOWAIT) != 0 ||
                info.si_pid != 0)
                break;
            ::usleep(50 * 1000);
        }
        if (info.si_pid == 0) ::kill(daemon_.pid(), SIGKILL);
        daemon_.wait();
    }

    void writeConfig(const std::string& runner_extra = "", const std::string& metrics = "\"\"",
                     const std::string& rest = "executor: {backend: host}\n") {
        nixjail::base::writeFile(
            config_, "runner:\n  file: " + (dir_.path() / ".runner").string() +
                         "\n  fetch_interval: 100ms\n  shutdown_timeout: 1s\n" + runner_extra +
                         "database: " + db().string() + "\n" + rest +
                         "cache:\n"
                         "  dir: " +
                         (dir_.path() / "cache").string() + "\nmetrics: {address: " + metrics +
                         "}\nlog: {level: debug}\n");
    }
    fs::path db() const { return dir_.path() / "jobs.sqlite"; }

    void startDaemon(std::vector<std::string> env = baseEnv()) {
        nixjail::base::writeFile(dir_.path() / "daemon.err", "");
        nixjail::base::UniqueFd err(
            ::open((dir_.path() / "daemon.err").c_str(), O_WRONLY | O_CLOEXEC));
        daemon_ =
            ChildProcess::spawn({.argv = {NIXJAIL_BINARY, "daemon", "--config", config_.string()},
                                 .env = env,
                                 .cwd = dir_.path(),
                                 .stdout_fd = err.get(),
                                 .stderr_fd = err.get()});
    }
    // Starts the daemon for a jailed executor: Nix builds the roots offline, without its sandbox.
    void startOfflineNixDaemon() {
        auto env = nixEnv();
        startDaemon(env);
    }
    // SIGTERM, then the exit code.
    int stopDaemon() {
        ::kill(daemon_.pid(), SIGTERM);
        return daemon_.wait().exitCode();
    }
    std::string daemonLog() { return nixjail::base::readFile(dir_.path() / "daemon.err"); }

    int64_t enqueue(const std::string& yaml, Json extra = Json::object()) {
        if (!extra.contains("context"))
            extra["context"] = {{"repository", "acme/app"}, {"workflow", "ci.yml"}};
        return forge_.enqueueJob(yaml, {"nix"}, extra);
    }
    Json jobsJson() {
        auto r = runBinary({"jobs", "--config", config_.string(), "--json"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return Json::parse(r.out);
    }

    nixjail::tests::FakeForgeServer forge_;
    TempDir dir_{"nixjail-daemon-e2e-"};
    fs::path config_ = dir_.path() / "config.yaml";
    ChildProcess daemon_;
};

// acme/app on the fixture's file:// forge: tag v1 on the first commit, then "second" (the pushed
// commit, returned) and "third" (main has moved on since the push).
inline std::string makeAppRepository(const fs::path& forgeRoot) {
    const auto origin = forgeRoot / "acme" / "app";
    fs::create_directories(origin);
    nixjail::base::writeFile(origin / "README.md", "checked out from the forge\n");
    auto git = [&](std::vector<std::string> a) {
        a.insert(a.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                             "init.defaultBranch=main"});
        auto c = ChildProcess::spawn({.argv = a, .env = baseEnv(), .cwd = origin});
        EXPECT_EQ(c.wait().exitCode(), 0) << a[7];
    };
    git({"init", "-q"});
    git({"add", "."});
    git({"commit", "-qm", "first"});
    git({"tag", "-a", "v1", "-m", "release one"});
    nixjail::base::writeFile(origin / "NEXT.md", "the next commit\n");
    git({"add", "."});
    git({"commit", "-qm", "second"});
    git({"commit", "-q", "--allow-empty", "-m", "third"});
    const fs::path shaFile = forgeRoot / "pushed-sha";
    auto rev =
        ChildProcess::spawn({.argv = {"sh", "-c", "git rev-parse HEAD~1 > " + shaFile.string()},
                             .env = baseEnv(),
                             .cwd = origin});
    EXPECT_EQ(rev.wait().exitCode(), 0);
    std::string sha = nixjail::base::readFile(shaFile);
    sha.erase(sha.find_last_not_of('\n') + 1);
    return sha;
}

}  // namespace nixjail::e2e
