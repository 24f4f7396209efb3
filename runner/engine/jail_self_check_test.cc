// The jail's self-check against real jails that were weakened: a namespace jail joined to the
// host's network, given a writable store, or asked for looser limits than the runner's, with the
// check in a jail run of its own and as the prelude of the first step; and a whole job whose
// "jail" keeps none of its promises, which must run no step (needs root).
#include "runner/engine/jail_self_check.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>

#include "executor/host/host_executor.h"
#include "executor/test_jailless_executor.h"
#include "executor/namespace/namespace_executor.h"
#include "executor/namespace/test_root.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "runner/engine/first_step_jail_check.h"
#include "runner/engine/workflow_runner.h"
#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::engine {
namespace {

namespace fs = std::filesystem;

const executor::PromiseCheck& named(const JailCheckReport& r, const std::string& name) {
    for (const auto& c : r.checks) {
        if (c.name == name) return c;
    }
    throw std::runtime_error("no check " + name);
}

// What a weakened namespace jail gets instead of the runner's spec.
struct Weakening {
    bool host_network = false;
    bool writable_store = false;
    bool looser_memory = false;
};

// Where the check runs: a jail run of its own (checkJail), or the first step's prelude.
enum class CheckMode { kOwnRun, kFirstStep };

std::string modeName(const ::testing::TestParamInfo<CheckMode>& mode) {
    return mode.param == CheckMode::kOwnRun ? "OwnRun" : "FirstStep";
}

class JailSelfCheck : public ::testing::TestWithParam<CheckMode> {
  protected:
    void SetUp() override {
        NIXJAIL_REQUIRE_JAIL();
        root_ = std::make_unique<executor::testing::TestRoot>(executor_);
        ASSERT_EQ(::chown(temp_.path().c_str(), executor_.stepHostUid(), executor_.stepHostGid()), 0);
        ASSERT_EQ(::chown(store_.path().c_str(), executor_.stepHostUid(), executor_.stepHostGid()), 0);
    }

    // The runner asks for `limits`; the jail is built from a spec weakened as told.
    JailCheckReport check(const Weakening& w) {
        executor::JailSpec spec = root_->spec("self-check");
        spec.binds.push_back({.host = temp_.path(), .jail = "/runner/temp", .writable = true});
        base::UniqueFd host_netns;
        if (w.host_network) {
            host_netns = base::UniqueFd(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
            spec.netns_fd = host_netns.get();
        }
        if (w.writable_store) spec.binds.push_back({.host = store_.path(), .jail = "/nix/store", .writable = true});
        const executor::Limits asked = spec.limits;
        if (w.looser_memory) spec.limits.memory_max_bytes *= 2;
        auto jail = executor_.prepare(spec);
        base::UniqueFd temp_fd(::open(temp_.path().c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
        const JailCheckRequest request{.program = NIXJAIL_JAIL_CHECK_PROGRAM,
                                       .temp_fd = temp_fd.get(),
                                       .temp_jail = "/runner/temp",
                                       .limits = asked,
                                       .backend = "namespace"};
        if (GetParam() == CheckMode::kOwnRun) return checkJail(*jail, request, {});
        std::optional<JailCheckReport> report;
        FirstStepJailCheck checked(std::move(jail), request, [&](const JailCheckReport& r) { report = r; });
        // The step lists the temp directory (the program must be gone) and leaves a mark there.
        executor::StepInvocation step;
        step.argv = {"/bin/sh", "-c", "ls -a /runner/temp; touch /runner/temp/step-ran"};
        step.cwd = "/";
        step.on_output = [&](std::string_view s) { step_output_ += s; };
        try {
            const auto result = checked.run(step);
            EXPECT_TRUE(result.succeeded()) << result.setup_error << " exit " << result.exit_code;
            step_ran_ = true;
            EXPECT_TRUE(fs::exists(temp_.path() / "step-ran"));
            EXPECT_EQ(step_output_.find("jail-check"), std::string::npos) << step_output_;
            EXPECT_EQ(step_output_.find("capabilities"), std::string::npos) << "the check's output is not the step's";
            fs::remove(temp_.path() / "step-ran");
        } catch (const JailRefused& e) {
            refusal_ = e.what();
            EXPECT_FALSE(fs::exists(temp_.path() / "step-ran")) << "a step ran in a jail that failed its self-check";
            // Every later step is refused too.
            EXPECT_THROW(checked.run(step), JailRefused);
        }
        EXPECT_TRUE(report.has_value());
        return report.value_or(JailCheckReport{});
    }

    void expectOnlyFailed(const JailCheckReport& r, const std::string& failed, const std::string& detail) {
        for (const auto& c : r.checks) {
            EXPECT_EQ(c.passed, c.name != failed) << c.name << ": " << c.detail;
        }
        EXPECT_NE(named(r, failed).detail.find(detail), std::string::npos) << named(r, failed).detail;
        EXPECT_FALSE(r.passed());
        EXPECT_TRUE(fs::is_empty(temp_.path())) << "the program's copy must be gone";
        if (GetParam() == CheckMode::kFirstStep) {
            EXPECT_FALSE(step_ran_);
            EXPECT_NE(refusal_.find("the jail's self-check failed, so no step ran: " + failed + " ("), std::string::npos)
                << refusal_;
        }
    }

    executor::NamespaceExecutor executor_;
    std::unique_ptr<executor::testing::TestRoot> root_;
    base::TempDir temp_{"nixjail-selfcheck-temp-"};
    base::TempDir store_{"nixjail-selfcheck-store-"};
    std::string step_output_;
    bool step_ran_ = false;
    std::string refusal_;
};

TEST_P(JailSelfCheck, TheNamespaceJailKeepsEveryPromise) {
    auto r = check({});
    ASSERT_EQ(r.checks.size(), 6u);
    for (const auto& c : r.checks) EXPECT_TRUE(c.passed) << c.name << ": " << c.detail;
    EXPECT_EQ(named(r, "cgroup").detail, "memory 512 MiB, processes 256");
    EXPECT_TRUE(fs::is_empty(temp_.path()));
    if (GetParam() == CheckMode::kFirstStep) {
        EXPECT_TRUE(step_ran_);
    }
}

TEST_P(JailSelfCheck, AJailInTheHostsNetworkIsCaught) {
    expectOnlyFailed(check({.host_network = true}), "network", "not only loopback");
}

TEST_P(JailSelfCheck, AWritableStoreIsCaught) {
    expectOnlyFailed(check({.writable_store = true}), "store", "could create a file in /nix/store");
    EXPECT_TRUE(fs::is_empty(store_.path()));
}

// The limits are judged before the step may start: a step never runs under unchecked limits.
TEST_P(JailSelfCheck, ALimitLooserThanAskedIsCaught) {
    expectOnlyFailed(check({.looser_memory = true}), "cgroup", "memory limit 1 GiB, asked for 512 MiB");
}

INSTANTIATE_TEST_SUITE_P(Modes, JailSelfCheck, ::testing::Values(CheckMode::kOwnRun, CheckMode::kFirstStep),
                         modeName);

// In either mode, before any step: a jail run of its own, or the job's set-up of the first step's.
TEST(JailSelfCheckMissing, AMissingProgramIsAClearError) {
    NIXJAIL_REQUIRE_JAIL();
    executor::NamespaceExecutor executor;
    executor::testing::TestRoot root(executor);
    base::TempDir temp("nixjail-selfcheck-temp-");
    base::UniqueFd temp_fd(::open(temp.path().c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    const JailCheckRequest request{.program = "/nonexistent/nixjail-jail-check", .temp_fd = temp_fd.get(), .temp_jail = "/runner/temp"};
    auto expectClear = [](const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("'/nonexistent/nixjail-jail-check' cannot be opened"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("installed beside nixjail-runner"), std::string::npos) << e.what();
    };
    auto jail = executor.prepare(root.spec("self-check"));
    try {
        checkJail(*jail, request, {});
        ADD_FAILURE() << "no error from checkJail";
    } catch (const base::Error& e) {
        expectClear(e);
    }
    try {
        FirstStepJailCheck checked(std::move(jail), request, {});
        ADD_FAILURE() << "no error from FirstStepJailCheck";
    } catch (const base::Error& e) {
        expectClear(e);
    }
}

// Sees the program it is asked to run as the check would, and runs nothing.
class ProgramWatchingJail : public executor::Jail {
  public:
    executor::StepResult run(const executor::StepInvocation& step) override {
        seen_ok = ::stat(step.argv.at(0).c_str(), &seen) == 0;
        executor::StepResult r;
        r.exit_code = 1;
        return r;
    }
    bool seen_ok = false;
    struct stat seen {};
};

// Beside the program, the check runs the installed file itself (a hard link: nothing copied);
// on another filesystem, a copy. Either way the name is gone afterwards.
TEST(JailSelfCheckProgram, IsTheInstalledFileOnItsFilesystemAndACopyElsewhere) {
    base::TempDir dir("nixjail-selfcheck-place-");
    const fs::path program = dir.path() / "nixjail-jail-check";
    fs::copy_file(NIXJAIL_JAIL_CHECK_PROGRAM, program);
    struct stat installed {};
    ASSERT_EQ(::stat(program.c_str(), &installed), 0);
    auto placed = [&](const fs::path& temp) {
        base::UniqueFd temp_fd(::open(temp.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
        ProgramWatchingJail jail;
        const auto report = checkJail(jail, {.program = program, .temp_fd = temp_fd.get(), .temp_jail = temp}, {});
        EXPECT_FALSE(report.passed());
        EXPECT_TRUE(fs::is_empty(temp)) << "the program's name must be gone";
        EXPECT_TRUE(jail.seen_ok);
        return jail.seen;
    };
    fs::create_directory(dir.path() / "same");
    const struct stat same = placed(dir.path() / "same");
    EXPECT_EQ(same.st_ino, installed.st_ino);
    EXPECT_EQ(same.st_dev, installed.st_dev);
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for the other filesystem (a tmpfs)";
    const fs::path other = dir.path() / "other";
    fs::create_directory(other);
    ASSERT_EQ(::mount("tmpfs", other.c_str(), "tmpfs", 0, "size=4m"), 0);
    const struct stat copied = placed(other);
    ::umount2(other.c_str(), MNT_DETACH);
    EXPECT_NE(copied.st_dev, installed.st_dev);
    EXPECT_EQ(copied.st_size, installed.st_size);
    EXPECT_EQ(copied.st_mode & 0777, 0755u);
}

struct Recorded : RunReporter {
    std::mutex mu;
    std::string text;
    std::vector<JobOutcome> outcomes;
    struct Obs : JobObserver {
        Recorded* r;
        void stepStarted(const StepRecord&) override {}
        void stepFinished(const StepRecord&) override {}
        void line(const LogLine& line) override {
            std::lock_guard lock(r->mu);
            r->text += line.text + "\n";
        }
    };
    std::unique_ptr<JobObserver> jobStarted(const JobInstance&) override {
        auto o = std::make_unique<Obs>();
        o->r = this;
        return o;
    }
    void jobFinished(const JobInstance&, const JobOutcome& outcome) override {
        std::lock_guard lock(mu);
        outcomes.push_back(outcome);
    }
};

// With the check in a jail run of its own, or as the first step's prelude, where the step is
// recorded as failed with the reason (its command never ran).
class JailSelfCheckJob : public ::testing::TestWithParam<CheckMode> {};

TEST_P(JailSelfCheckJob, AJobWhoseJailBrokeItsPromisesRunsNoStep) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the job's network namespace";
    base::TempDir work("nixjail-selfcheck-job-");
    const fs::path marker = work.path() / "step-ran";
    auto wf = workflow::parseWorkflow("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
                                      "      - run: touch " + marker.string() + "\n", "weak.yml");
    ASSERT_TRUE(wf) << workflow::formatAll(wf.error());
    executor::testing::JaillessExecutor weakened(GetParam() == CheckMode::kFirstStep);
    RunOptions opts;
    opts.executor = &weakened;
    opts.work_dir = work.path();
    opts.jail_check_program = NIXJAIL_JAIL_CHECK_PROGRAM;
    SecretMasker masker;
    Recorded rec;
    const auto report = runWorkflow(*wf, {}, opts, rec, masker, {});
    EXPECT_EQ(report.result, Result::kFailure);
    EXPECT_FALSE(fs::exists(marker)) << "a step ran in a jail that failed its self-check";
    ASSERT_EQ(rec.outcomes.size(), 1u);
    const auto& outcome = rec.outcomes[0];
    if (GetParam() == CheckMode::kOwnRun) {
        EXPECT_TRUE(outcome.steps.empty());
    } else {
        ASSERT_EQ(outcome.steps.size(), 1u);
        EXPECT_EQ(outcome.steps[0].conclusion, Result::kFailure);
        EXPECT_NE(outcome.steps[0].error.find("the jail's self-check failed, so no step ran"), std::string::npos)
            << outcome.steps[0].error;
    }
    EXPECT_NE(outcome.error.find("the jail's self-check failed, so no step ran: capabilities (the step holds"),
              std::string::npos)
        << outcome.error;
    for (const char* broken : {"capabilities", "no_new_privs", "seccomp", "network"}) {
        EXPECT_NE(rec.text.find(std::string("Jail self-check: ") + broken + ": "), std::string::npos) << broken << rec.text;
    }
    ASSERT_EQ(outcome.jail_checks.size(), 6u);
    EXPECT_FALSE(outcome.jail_checks[0].passed);
    EXPECT_EQ(outcome.jail_checks[5].name, "cgroup");
}

INSTANTIATE_TEST_SUITE_P(Modes, JailSelfCheckJob, ::testing::Values(CheckMode::kOwnRun, CheckMode::kFirstStep),
                         modeName);

}  // namespace
}  // namespace nixjail::runner::engine
