// Live tests of the namespace jail: real programs in real namespaces (needs root).
#include "executor/namespace/namespace_executor.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "executor/namespace/cgroup.h"
#include "executor/namespace/jail_setup_error.h"
#include "executor/namespace/test_root.h"
#include "executor/test_processes.h"
#include "runner/base/detached_tmpfs.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"

namespace nixjail::executor {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kEnv = {"PATH=/usr/bin:/bin", "HOME=/workspace", "LANG=C"};

std::string drain(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
}

class NamespaceJailTest : public ::testing::Test {
  protected:
    void SetUp() override {
        NIXJAIL_REQUIRE_JAIL();
        root_ = std::make_unique<testing::TestRoot>(executor_);
    }

    JailSpec spec() const { return root_->spec("live-test"); }

    // `argv` in /workspace with kEnv, its output appended to *out (if given).
    static StepInvocation stepOf(std::vector<std::string> argv, std::string* out) {
        StepInvocation step;
        step.argv = std::move(argv);
        step.env = kEnv;
        step.cwd = "/workspace";
        step.on_output = [out](std::string_view s) {
            if (out) out->append(s);
        };
        return step;
    }

    StepResult runIn(Jail& jail, std::vector<std::string> argv, std::string* out = nullptr,
                     std::optional<std::chrono::milliseconds> timeout = {},
                     std::stop_token cancel = {}) {
        StepInvocation step = stepOf(std::move(argv), out);
        step.timeout = timeout;
        step.cancel = cancel;
        return jail.run(step);
    }

    StepResult sh(const std::string& script, std::string* out = nullptr) {
        auto jail = executor_.prepare(spec());
        return runIn(*jail, {"/bin/sh", "-c", script}, out);
    }

    // A step that runs in `jail` on a thread of its own until stop(): the constructor returns
    // once `script` has printed its first output; stop() cancels it and expects it cancelled.
    class RunningStep {
      public:
        RunningStep(Jail& jail, const std::string& script) {
            thread_ = std::thread([&jail, script, &started = started_, token = stop_.get_token()] {
                StepInvocation step;
                step.argv = {"sh", "-c", script};
                step.env = kEnv;
                step.cancel = token;
                bool once = false;
                step.on_output = [&](std::string_view) {
                    if (!once) started.set_value();
                    once = true;
                };
                EXPECT_TRUE(jail.run(step).cancelled);
            });
            started_.get_future().wait();
        }
        ~RunningStep() { stop(); }
        void stop() {
            stop_.request_stop();
            if (thread_.joinable()) thread_.join();
        }

      private:
        std::promise<void> started_;  // outlives the thread, which sets it
        std::stop_source stop_;
        std::thread thread_;
    };

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

// The limits the step was under are read while its init is still held back: a step that exits
// at once (the self-check does) must not leave them unread. Several jails at a time, as a daemon
// at capacity runs them, each step as short as it can be.
TEST_F(NamespaceJailTest, AppliedLimitsAreReadForStepsThatExitAtOnce) {
    std::vector<std::thread> threads;
    std::atomic<int> missing = 0;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            auto jail = executor_.prepare(spec());
            for (int i = 0; i < 16; ++i) {
                auto r = runIn(*jail, {"/bin/true"});
                if (r.exit_code != 0 || !r.applied_limits || !r.applied_limits->memory_max_bytes ||
                    !r.applied_limits->pids_max)
                    ++missing;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(missing.load(), 0);
}

// What `shell` gives a kept job's jail: the caller's own files as the step's stdin, stdout and
// stderr, nothing through the output pipe.
TEST_F(NamespaceJailTest, StepTakesTheCallersStdioWhenGiven) {
    auto in = base::Pipe::create();
    auto out = base::Pipe::create();
    auto err = base::Pipe::create();
    ASSERT_EQ(::write(in.write.get(), "from the caller\n", 16), 16);
    in.write.reset();
    auto jail = executor_.prepare(spec());
    StepInvocation step;
    step.argv = {"/bin/sh", "-c", "read line; echo \"got $line\"; echo oops >&2; test -t 0 || echo notty"};
    step.env = kEnv;
    step.cwd = "/workspace";
    std::string piped;
    step.on_output = [&](std::string_view s) { piped.append(s); };
    step.stdio = StepStdio{.in = in.read.get(), .out = out.write.get(), .err = err.write.get()};
    auto r = jail->run(step);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    out.write.reset();
    err.write.reset();
    EXPECT_EQ(drain(out.read.get()), "got from the caller\nnotty\n");
    EXPECT_EQ(drain(err.read.get()), "oops\n");
    EXPECT_EQ(piped, "");
}

// A pty's slave end becomes the step's controlling terminal: an interactive shell works.
TEST_F(NamespaceJailTest, StepGetsATerminalAsItsControllingTty) {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(master, 0);
    base::UniqueFd masterFd(master);
    ASSERT_EQ(::grantpt(master), 0);
    ASSERT_EQ(::unlockpt(master), 0);
    base::UniqueFd slave(::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(slave);
    auto jail = executor_.prepare(spec());
    StepInvocation step;
    // `exec </dev/tty` only works when the terminal is the process's controlling one.
    step.argv = {"/bin/sh", "-c", "test -t 0 && test -t 1 && echo isatty; exec </dev/tty && echo ctty"};
    step.env = kEnv;
    step.cwd = "/workspace";
    step.stdio = StepStdio{.in = slave.get(), .out = slave.get(), .err = slave.get(), .terminal = true};
    auto r = jail->run(step);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    slave.reset();
    std::string seen;
    char buf[256];
    ssize_t n;
    while ((n = ::read(master, buf, sizeof buf)) > 0) seen.append(buf, static_cast<size_t>(n));
    EXPECT_NE(seen.find("isatty"), std::string::npos) << seen;
    EXPECT_NE(seen.find("ctty"), std::string::npos) << seen;
}

TEST_F(NamespaceJailTest, StepSeesExactlyItsEnvironmentAndWorkingDirectory) {
    std::string out;
    auto jail = executor_.prepare(spec());
    StepInvocation step;
    step.argv = {"sh", "-c", "pwd; env | sort"};
    step.env = {"PATH=/usr/bin", "FOO=bar baz"};
    step.cwd = "/tmp";
    step.on_output = [&](std::string_view s) { out.append(s); };
    auto r = jail->run(step);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(out, "/tmp\nFOO=bar baz\nPATH=/usr/bin\nPWD=/tmp\n");
}

TEST_F(NamespaceJailTest, StepRunsUnprivilegedWithoutCapabilitiesUnderSeccomp) {
    std::string out;
    auto r =
        sh("id -u; id -g; hostname; grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' "
           "/proc/self/status",
           &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error << out;
    EXPECT_EQ(out,
              "1000\n1000\nnixjail\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
              "CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\n"
              "NoNewPrivs:\t1\nSeccomp:\t2\n");
}

TEST_F(NamespaceJailTest, InitIsNotInspectableFromTheStep) {
    std::string out;
    auto r = sh("cat /proc/1/environ >/dev/null 2>&1 || echo environ-denied; "
                "head -c1 /proc/1/mem >/dev/null 2>&1 || echo mem-denied; umask",
                &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(out, "environ-denied\nmem-denied\n0022\n");
}

TEST_F(NamespaceJailTest, StepIsPidTwoInItsOwnPidNamespace) {
    std::string out;
    auto r = sh("echo $$; ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '", &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    // pid 1 is the jail's init, 2 the step's shell; ls, grep, sort and tr come after.
    EXPECT_EQ(out.substr(0, 6), "2\n1 2 ");
}

TEST_F(NamespaceJailTest, RootIsReadOnlyTmpAndWorkspaceAreWritable) {
    std::string out;
    auto r =
        sh("touch /newfile 2>/dev/null && echo root-writable; touch /usr/x 2>/dev/null && echo "
           "usr-writable; "
           "echo t > /tmp/t && cat /tmp/t; echo w > /workspace/w && cat /workspace/w",
           &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(out, "t\nw\n");
    struct stat st {};
    ASSERT_EQ(::stat((root_->workspace() / "w").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, executor_.stepHostUid());
    // The caller's root directory is not modified by mount points or writes.
    EXPECT_FALSE(std::filesystem::exists(root_->root() / "workspace"));
    EXPECT_FALSE(std::filesystem::exists(root_->root() / "tmp"));
}

TEST_F(NamespaceJailTest, DevHasOnlyTheMinimalNodes) {
    std::string out;
    auto r = sh("ls /dev | tr '\\n' ' '; echo x > /dev/null && head -c 4 /dev/zero | wc -c", &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(out, "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero 4\n");
}

TEST_F(NamespaceJailTest, NewNetworkNamespaceHasOnlyLoopbackUp) {
    std::string out;
    auto r = sh(
        "ls /sys/class/net 2>/dev/null; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '",
        &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(out, "lo\n");
}

TEST_F(NamespaceJailTest, MissingProgramIsASetupErrorInTheExecPhase) {
    auto jail = executor_.prepare(spec());
    auto r = runIn(*jail, {"no-such-program"});
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_EQ(r.setup_error, "exec: No such file or directory");
    EXPECT_FALSE(r.succeeded());
}

// A program still open for writing somewhere (a copy just made, whose descriptor another job's
// jail init inherited while it was being written) cannot be executed (ETXTBSY) until that
// descriptor is closed: the step waits for that, briefly, instead of failing.
TEST_F(NamespaceJailTest, AProgramBrieflyOpenForWritingRunsOnceItIsClosed) {
    const auto prog = root_->workspace() / "just-written";
    std::filesystem::copy_file("/bin/true", prog);
    ::chmod(prog.c_str(), 0755);
    base::UniqueFd writer(::open(prog.c_str(), O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(writer);
    auto jail = executor_.prepare(spec());
    std::thread closer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        writer.reset();
    });
    auto r = runIn(*jail, {"/workspace/just-written"});
    closer.join();
    EXPECT_EQ(r.setup_error, "");
    EXPECT_EQ(r.exit_code, 0);
}

TEST_F(NamespaceJailTest, MissingWorkingDirectoryIsASetupErrorInTheChdirPhase) {
    auto jail = executor_.prepare(spec());
    StepInvocation step;
    step.argv = {"/bin/true"};
    step.cwd = "/nonexistent";
    auto r = jail->run(step);
    EXPECT_EQ(r.setup_error, "chdir: working directory: No such file or directory");
}

TEST_F(NamespaceJailTest, UnreachableBindSourceIsASetupErrorNamingTheBind) {
    base::TempDir hidden("nixjail-hidden-");  // 0700, owned by root
    std::filesystem::create_directory(hidden.path() / "data");
    auto s = spec();
    s.binds.push_back({.host = hidden.path() / "data", .jail = "/data"});
    auto jail = executor_.prepare(s);
    auto r = runIn(*jail, {"/bin/true"});
    EXPECT_EQ(r.setup_error,
              "mounts: bind '/.nixjail-oldroot" + (hidden.path() / "data").string() +
                  "' -> '/data': Permission denied; the jail's setup runs as an unprivileged host "
                  "id, so the root and every bind source need o+x on each parent directory");
}

TEST_F(NamespaceJailTest, MissingRootThrowsJailSetupError) {
    auto s = spec();
    s.root = "/nonexistent/root";
    EXPECT_THROW(executor_.prepare(s), ns::JailSetupError);
}

TEST_F(NamespaceJailTest, StepsOfOneJobShareTheWorkspaceButNotTmp) {
    auto jail = executor_.prepare(spec());
    std::string out;
    EXPECT_EQ(runIn(*jail, {"sh", "-c", "echo 1 > /workspace/a; echo 1 > /tmp/a"}).exit_code, 0);
    auto r = runIn(*jail, {"sh", "-c", "cat /workspace/a; ls /tmp"}, &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(out, "1\n");
}

TEST_F(NamespaceJailTest, SignalOfTheMainProcessIsReported) {
    auto r = sh("kill -TERM $$");
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_EQ(r.term_signal, SIGTERM);
}

TEST_F(NamespaceJailTest, TimeoutKillsTheWholeTree) {
    auto jail = executor_.prepare(spec());
    auto start = std::chrono::steady_clock::now();
    auto r = runIn(*jail, {"sh", "-c", "sleep 100 & sleep 100"}, nullptr,
                   std::chrono::milliseconds(300));
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.term_signal, SIGKILL);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(NamespaceJailTest, CancelKillsTheStep) {
    auto jail = executor_.prepare(spec());
    std::stop_source stop;
    std::string out;
    std::thread canceller;
    StepInvocation step;
    step.argv = {"sh", "-c", "echo started; sleep 100"};
    step.env = kEnv;
    step.cancel = stop.get_token();
    step.on_output = [&](std::string_view s) {
        out.append(s);
        if (out.find("started") != std::string::npos && !canceller.joinable()) {
            canceller = std::thread([&] { stop.request_stop(); });
        }
    };
    auto r = jail->run(step);
    if (canceller.joinable()) canceller.join();
    EXPECT_TRUE(r.cancelled);
    EXPECT_FALSE(r.timed_out);
    EXPECT_FALSE(r.succeeded());
}

TEST_F(NamespaceJailTest, NofileLimitApplies) {
    auto s = spec();
    s.limits.nofile_max = 77;
    auto jail = executor_.prepare(s);
    std::string out;
    auto r = runIn(*jail, {"sh", "-c", "ulimit -n"}, &out);
    EXPECT_EQ(out, "77\n") << r.setup_error;
}

TEST_F(NamespaceJailTest, MemoryLimitOomIsReported) {
    auto s = spec();
    s.limits.memory_max_bytes = 64ull << 20;
    auto jail = executor_.prepare(s);
    auto r = runIn(*jail, {"python3", "-c", "b = []\nwhile True: b.append(bytearray(1 << 20))"});
    EXPECT_TRUE(r.oom_killed) << r.setup_error;
    EXPECT_EQ(r.term_signal, SIGKILL);
    EXPECT_GT(r.peak_memory_bytes, 32ull << 20);
    EXPECT_LE(r.peak_memory_bytes, (64ull << 20) + (1 << 20));
}

TEST_F(NamespaceJailTest, ResourceUsageIsMeasured) {
    auto jail = executor_.prepare(spec());
    auto r = runIn(*jail, {"sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_GT(r.cpu_time.count(), 0);
    EXPECT_GT(r.peak_memory_bytes, 0u);
    EXPECT_GE(r.wall_time, r.cpu_time / 2);
}

TEST_F(NamespaceJailTest, PidsLimitHolds) {
    auto s = spec();
    s.limits.pids_max = 20;
    auto jail = executor_.prepare(s);
    std::string out;
    const std::string forker =
        "import os, time\nn = 0\ntry:\n    while n < 100:\n        if os.fork() == 0:\n"
        "            time.sleep(60)\n            os._exit(0)\n        n += 1\n"
        "except OSError as e:\n    print(n, e.errno)\n";
    auto r = runIn(*jail, {"python3", "-c", forker}, &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error << out;
    // 20 pids: init, python, and at most 18 children; then fork fails with EAGAIN.
    EXPECT_LE(std::atoi(out.c_str()), 18) << out;
    EXPECT_NE(out.find(" 11\n"), std::string::npos) << out;
}

TEST_F(NamespaceJailTest, JoinsAGivenNetworkNamespace) {
    // An unnamed netns held only by an fd: a helper thread unshares one and opens it.
    int netns = -1;
    std::thread([&] {
        if (::unshare(CLONE_NEWNET) == 0)
            netns = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    }).join();
    ASSERT_GE(netns, 0);
    struct stat want {
    }, before{};
    ASSERT_EQ(::fstat(netns, &want), 0);
    ASSERT_EQ(::stat("/proc/thread-self/ns/net", &before), 0);
    auto s = spec();
    s.netns_fd = netns;
    auto jail = executor_.prepare(s);
    std::string out;
    auto r = runIn(*jail, {"sh", "-c", "stat -L -c %i /proc/self/ns/net"}, &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(out, std::to_string(want.st_ino) + "\n");
    // The calling thread is back in its own namespace.
    struct stat after {};
    ASSERT_EQ(::stat("/proc/thread-self/ns/net", &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino);
    ::close(netns);
}

TEST_F(NamespaceJailTest, DefaultAllowsWritableExecutableMappingsStrictDoesNot) {
    const std::string probe =
        "import mmap\ntry:\n    mmap.mmap(-1, 4096, prot=mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
        "    print('wx-allowed')\nexcept OSError as e:\n    print('wx-denied', e.errno)\n";
    std::string def, strict;
    {
        auto jail = executor_.prepare(spec());
        runIn(*jail, {"python3", "-c", probe}, &def);
    }
    auto s = spec();
    s.profile = HardeningProfile::kStrict;
    auto jail = executor_.prepare(s);
    runIn(*jail, {"python3", "-c", probe}, &strict);
    EXPECT_EQ(def, "wx-allowed\n");
    EXPECT_EQ(strict, "wx-denied 1\n");
}

// Cancels `step` as soon as it printed "started"; returns the result.
StepResult runAndCancel(Jail& jail, StepInvocation step, std::string& out) {
    std::stop_source stop;
    std::thread canceller;
    step.cancel = stop.get_token();
    step.on_output = [&](std::string_view s) {
        out.append(s);
        if (out.find("started") != std::string::npos && !canceller.joinable()) {
            canceller = std::thread([&] { stop.request_stop(); });
        }
    };
    auto r = jail.run(step);
    if (canceller.joinable()) canceller.join();
    return r;
}

TEST_F(NamespaceJailTest, CancelIsForwardedAsSigtermThroughTheInit) {
    auto jail = executor_.prepare(spec());
    StepInvocation step;
    step.argv = {"sh", "-c",
                 "trap 'echo got-term; exit 3' TERM; echo started; while :; do sleep 1; done"};
    step.env = kEnv;
    std::string out;
    auto r = runAndCancel(*jail, step, out);
    EXPECT_TRUE(r.cancelled);
    EXPECT_EQ(r.exit_code, 3) << r.setup_error;
    EXPECT_EQ(out, "started\ngot-term\n");
}

TEST_F(NamespaceJailTest, CancelKillsAStepThatIgnoresSigtermAfterTheGrace) {
    NamespaceExecutor quick(NamespaceOptions{.cancel_grace = std::chrono::milliseconds(200)});
    auto jail = quick.prepare(spec());
    StepInvocation step;
    step.argv = {"sh", "-c", "trap '' TERM; echo started; while :; do sleep 1; done"};
    step.env = kEnv;
    std::string out;
    auto r = runAndCancel(*jail, step, out);
    EXPECT_TRUE(r.cancelled);
    EXPECT_EQ(r.term_signal, SIGKILL);
}

TEST_F(NamespaceJailTest, CancelGrantsTheGracePeriodThenKillsTheTree) {
    const auto grace = std::chrono::milliseconds(700);
    NamespaceExecutor quick(NamespaceOptions{.cancel_grace = grace});
    auto jail = quick.prepare(spec());
    const std::string token = "7" + std::to_string(::getpid()) + "2";
    std::stop_source stop;
    std::thread canceller;
    std::chrono::steady_clock::time_point cancelledAt;
    std::vector<pid_t> running;  // the helper, seen from here when the cancel came
    std::string out;
    StepInvocation step;
    step.argv = {"sh", "-c", testing::trapsSigtermScript("/workspace/term-marker", token)};
    step.env = kEnv;
    step.cwd = "/workspace";
    step.cancel = stop.get_token();
    step.on_output = [&](std::string_view s) {
        out.append(s);
        if (out.find("started") != std::string::npos && !canceller.joinable()) {
            canceller = std::thread([&] {
                running = testing::processesWithArgv({"sleep", token});
                cancelledAt = std::chrono::steady_clock::now();
                stop.request_stop();
            });
        }
    };
    auto r = jail->run(step);
    const auto ended = std::chrono::steady_clock::now();
    ASSERT_TRUE(canceller.joinable()) << "the step never started: " << r.setup_error << out;
    canceller.join();
    EXPECT_TRUE(r.cancelled);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.term_signal, SIGKILL);  // it kept running through the grace period
    EXPECT_EQ(base::readFile(root_->workspace() / "term-marker"), "term\n");
    EXPECT_GE(ended - cancelledAt, grace - std::chrono::milliseconds(50));
    EXPECT_LT(ended - cancelledAt, grace + std::chrono::seconds(3));
    EXPECT_EQ(running.size(), 1u) << "the helper that ignores SIGTERM was not running";
    const auto helpers = testing::processesWithArgv({"sleep", token});
    EXPECT_EQ(testing::survivorsAfter(helpers, std::chrono::seconds(2)).size(), 0u)
        << "a process of the step's tree survived the cancel";
}

TEST_F(NamespaceJailTest, ConcurrentJobsDoNotHoldEachOthersPipes) {
    // Job A runs long; job B's steps, cloned while A's pipes exist (and vice versa), must end
    // as soon as their own processes do.
    auto jailA = executor_.prepare(spec());
    auto jailB = executor_.prepare(spec());
    RunningStep a(*jailA, "echo started; sleep 30");
    for (int i = 0; i < 5; ++i) {
        std::string out;
        auto t0 = std::chrono::steady_clock::now();
        auto r = runIn(*jailB, {"sh", "-c", "echo " + std::to_string(i)}, &out);
        EXPECT_EQ(out, std::to_string(i) + "\n") << r.setup_error;
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    }
    a.stop();
}

// The jails of one executor mount their tmpfs over one staging directory, each in its own mount
// namespace: two running at once see only their own /tmp, the host sees the directory empty, and
// it goes once the executor and the last jail that used it are gone.
TEST_F(NamespaceJailTest, JailsShareOneStagingDirectoryAndNothingInIt) {
    base::TempDir parent("nixjail-staging-test-");
    ASSERT_EQ(::chmod(parent.path().c_str(), 0755), 0);
    auto executor = std::make_unique<NamespaceExecutor>(NamespaceOptions{.staging_parent = parent.path()});
    auto jailA = executor->prepare(spec());
    auto jailB = executor->prepare(spec());
    std::vector<std::filesystem::path> staging;
    for (const auto& e : std::filesystem::directory_iterator(parent.path())) staging.push_back(e.path());
    ASSERT_EQ(staging.size(), 1u);

    RunningStep a(*jailA, "echo a > /tmp/from-a; echo started; sleep 30");
    std::string out;
    const auto r = runIn(*jailB, {"sh", "-c", "ls -A /tmp; echo b > /tmp/from-b; echo done"}, &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(out, "done\n");  // nothing of A's in B's /tmp
    EXPECT_TRUE(std::filesystem::is_empty(staging[0]));  // nor anything of either on the host
    a.stop();

    executor.reset();
    EXPECT_TRUE(std::filesystem::exists(staging[0]));  // the jails still use it
    jailA.reset();
    jailB.reset();
    EXPECT_FALSE(std::filesystem::exists(staging[0]));
}

TEST_F(NamespaceJailTest, OnlyTheJailsOwnMountsAreVisible) {
    std::string out;
    auto r = sh("cut -d' ' -f5 /proc/self/mountinfo | sort | tr '\\n' ' '", &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    // No old root, no staging dir, no host /sys, /home or /root: only the plan's mounts.
    EXPECT_EQ(out,
              "/ /dev /dev/full /dev/null /dev/pts /dev/random /dev/shm /dev/tty /dev/urandom "
              "/dev/zero /proc /proc/sys /tmp /usr /workspace ");
}

std::string hostMountTable() {
    std::ifstream in("/proc/self/mountinfo");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// StepInvocation::files_mount (a step's own tmpfs of command files): the step sees it at its
// jail path, nosuid, nodev and noexec, and writes to it; the runner reads what it wrote through
// its fd; the host's mount table never shows it and its directory on disk stays empty; the next
// step, given none, sees the empty directory.
TEST_F(NamespaceJailTest, AStepsFilesMountIsItsOwnAndNeverTheHosts) {
    const auto before = hostMountTable();
    base::DetachedTmpfs files({.size_bytes = 1 << 20,
                               .uid = executor_.stepHostUid(),
                               .gid = executor_.stepHostGid(),
                               .what = "a test"});
    {
        base::UniqueFd in(::openat(files.fd(), "in", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        ASSERT_TRUE(in);
        ASSERT_EQ(::write(in.get(), "from the runner\n", 16), 16);
    }
    fs::create_directory(root_->workspace() / "files");
    ::chown((root_->workspace() / "files").c_str(), executor_.stepHostUid(), executor_.stepHostGid());
    auto jail = executor_.prepare(spec());
    std::string out;
    StepInvocation step = stepOf({"sh", "-c",
                                  "cat /workspace/files/in; echo from the step > /workspace/files/out; "
                                  "grep ' /workspace/files ' /proc/self/mountinfo | grep -o 'nosuid,nodev,noexec'"},
                                 &out);
    step.files_mount = StepFilesMount{.mount_fd = files.fd(), .jail = "/workspace/files"};
    auto r = jail->run(step);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error << out;
    EXPECT_EQ(out, "from the runner\nnosuid,nodev,noexec\n");
    EXPECT_EQ(hostMountTable(), before);
    EXPECT_TRUE(fs::is_empty(root_->workspace() / "files"));
    base::UniqueFd written(::openat(files.fd(), "out", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(written);
    EXPECT_EQ(drain(written.get()), "from the step\n");

    out.clear();
    auto next = runIn(*jail, {"sh", "-c", "ls -A /workspace/files; echo end"}, &out);
    EXPECT_EQ(next.exit_code, 0) << next.setup_error;
    EXPECT_EQ(out, "end\n");
}

// A job's step may have made the mount point a link (to /tmp here, or anywhere in the jail): the
// link is not followed; the step does not start, and the error names the tmpfs.
TEST_F(NamespaceJailTest, AFilesMountOntoALinkIsASetupError) {
    base::DetachedTmpfs files({.size_bytes = 1 << 20, .what = "a test"});
    fs::create_directory_symlink("/tmp", root_->workspace() / "files");
    auto jail = executor_.prepare(spec());
    std::string out;
    StepInvocation step = stepOf({"sh", "-c", "echo started"}, &out);
    step.files_mount = StepFilesMount{.mount_fd = files.fd(), .jail = "/workspace/files"};
    auto r = jail->run(step);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.setup_error.find("tmpfs of command files"), std::string::npos) << r.setup_error;
    EXPECT_EQ(out, "");
}

TEST_F(NamespaceJailTest, CpuQuotaThrottlesABusyLoop) {
    auto s = spec();
    s.limits.cpu_quota = 0.2;
    auto jail = executor_.prepare(s);
    std::string out;
    auto r = runIn(
        *jail, {"python3", "-c", "import time\nt = time.time()\nwhile time.time() - t < 1: pass"},
        &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error << out;
    EXPECT_GE(r.wall_time.count(), 1000);
    // 0.2 CPUs for about a second; generous bounds for a shared machine.
    EXPECT_LT(r.cpu_time.count(), 450) << "cpu " << r.cpu_time.count() << " ms";
    EXPECT_GT(r.cpu_time.count(), 50);
}

TEST_F(NamespaceJailTest, FullTmpIsEnospcNotOom) {
    auto s = spec();
    s.limits.memory_max_bytes = 128ull << 20;
    auto jail = executor_.prepare(s);
    std::string out;
    auto r = runIn(
        *jail,
        {"sh", "-c", "dd if=/dev/zero of=/tmp/fill bs=1M 2>&1 | grep -o 'No space left on device'"},
        &out);
    EXPECT_EQ(out, "No space left on device\n") << r.setup_error;
    EXPECT_FALSE(r.oom_killed);
}

TEST_F(NamespaceJailTest, SweepRemovesLeftoverCgroupsAndKillsWhatRunsInThem) {
    auto layout = ns::CgroupLayout::detect();
    const std::string prefix = "nixjail-sweeptest-" + std::to_string(::getpid());
    auto leftover = layout.hierarchies.front().parent / (prefix + "-abc");
    ASSERT_TRUE(std::filesystem::create_directory(leftover));
    ASSERT_TRUE(std::filesystem::create_directory(leftover / "step-1"));
    pid_t orphan = ::fork();
    if (orphan == 0) {
        ::pause();
        ::_exit(0);
    }
    base::writeFile(leftover / "step-1/cgroup.procs", std::to_string(orphan));
    EXPECT_EQ(ns::sweepCgroups(layout, prefix), 1);
    int status = 0;
    ASSERT_EQ(::waitpid(orphan, &status, 0), orphan);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    EXPECT_FALSE(std::filesystem::exists(leftover));
}

// Without root the jail needs a delegated cgroup; without one it says so instead of running
// unconfined.
TEST_F(NamespaceJailTest, UnprivilegedRunnerWithoutDelegatedCgroupGetsAClearError) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t child = ::fork();
    if (child == 0) {
        std::string msg = "no error";
        if (::setresgid(65534, 65534, 65534) == 0 && ::setresuid(65534, 65534, 65534) == 0) {
            try {
                JailSpec s;
                s.job_id = "unprivileged";
                s.root = "/";
                NamespaceExecutor(NamespaceOptions{.staging_parent = "/tmp"}).prepare(s);
            } catch (const std::exception& e) {
                msg = e.what();
            }
        }
        [[maybe_unused]] auto n = ::write(fds[1], msg.data(), msg.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string msg;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    ::waitpid(child, nullptr, 0);
    EXPECT_NE(msg.find("cgroup for job unprivileged"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Permission denied; run as root or delegate a cgroup"), std::string::npos)
        << msg;
}

}  // namespace
}  // namespace nixjail::executor
