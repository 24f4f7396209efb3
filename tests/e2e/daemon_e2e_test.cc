// End-to-end: the nixjail-runner binary as `daemon` and `one-job` against the fake forge
// (tests/support), asserting what the forge received and what `jobs`/`stats` show.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon_e2e.h"
#include "e2e_run.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "tests/support/fake_forge_server.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using nixjail::base::ChildProcess;
using nixjail::base::TempDir;
using nixjail::e2e::baseEnv;
using nixjail::e2e::nixEnv;
using nixjail::e2e::runBinary;
using Clock = std::chrono::steady_clock;

using nixjail::e2e::DaemonE2E;
using nixjail::e2e::has;
using nixjail::e2e::jailedNixConfig;
using nixjail::e2e::logText;
using nixjail::e2e::makeAppRepository;

// A port nothing listens on right now.
int freePort() {
    nixjail::base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        throw nixjail::base::SysError("picking a free port");
    }
    return ntohs(addr.sin_port);
}

std::string httpGet(int port, const std::string& path) {
    nixjail::base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        throw nixjail::base::SysError("connecting to the metrics port");
    }
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::write(fd.get(), req.data(), req.size()) != static_cast<ssize_t>(req.size())) return "";
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<size_t>(n));
    return out;
}

// Blocks until a step writes a line into the FIFO (the job is running), at most 60 s.
std::string waitForFifo(const fs::path& fifo) {
    nixjail::base::UniqueFd fd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) throw nixjail::base::SysError("opening the fifo");
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 60000) <= 0) return "";
    char buf[256];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

const char* kGoodJob = R"(
on: push
jobs:
  build:
    runs-on: nix
    outputs:
      version: ${{ steps.v.outputs.version }}
    steps:
      - name: greet
        run: echo "hello from the daemon"
      - id: v
        run: |
          echo "version=2.0.1" >> "$GITHUB_OUTPUT"
          echo "token is ${{ secrets.GITHUB_TOKEN }}"
      - if: failure()
        run: echo never
)";

TEST_F(DaemonE2E, RunsAQueuedJobReportsItAndRecordsIt) {
    startDaemon();
    const int64_t job = enqueue(kGoodJob);
    auto task = forge_.waitJob(job, true, true, 60);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS") << daemonLog();
    EXPECT_EQ(task["steps"]["0"]["result"], "RESULT_SUCCESS");
    EXPECT_EQ(task["steps"]["1"]["result"], "RESULT_SUCCESS");
    EXPECT_EQ(task["steps"]["2"]["result"], "RESULT_SKIPPED");
    EXPECT_GT(task["steps"]["0"]["logLength"].get<int64_t>(), 0);
    const auto log = logText(task);
    EXPECT_TRUE(has(log, "hello from the daemon")) << log;
    EXPECT_TRUE(has(log, "token is ***")) << log;
    EXPECT_EQ(task["outputs"]["version"], "2.0.1");
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();

    auto jobs = jobsJson();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0]["status"], "success");
    EXPECT_EQ(jobs[0]["forge_task_id"], task["id"]);
    EXPECT_EQ(jobs[0]["repo"], "acme/app");
    EXPECT_EQ(jobs[0]["job"], "build");
    EXPECT_EQ(jobs[0]["steps"].size(), 3u);
    EXPECT_TRUE(jobs[0]["phase_ms"].contains("execution"));
    auto stats = runBinary({"stats", "--config", config_.string(), "--json"});
    ASSERT_EQ(stats.exit_code, 0) << stats.err;
    EXPECT_EQ(Json::parse(stats.out)["jobs_by_status"]["success"], 1);
    auto table = runBinary({"jobs", "--config", config_.string()});
    EXPECT_TRUE(has(table.out, "acme/app / ci.yml / build")) << table.out;
}

TEST_F(DaemonE2E, MalformedWorkflowFailsThatTaskAndTheNextOneRuns) {
    startDaemon();
    const int64_t bad = enqueue("jobs:\n  build:\n    runs-on: nix\n    steps: [\n");
    const int64_t good = enqueue(kGoodJob);
    auto badTask = forge_.waitJob(bad, true, true, 60);
    EXPECT_EQ(badTask["result"], "RESULT_FAILURE");
    EXPECT_TRUE(has(logText(badTask), "invalid YAML")) << logText(badTask);
    auto goodTask = forge_.waitJob(good, true, true, 60);
    EXPECT_EQ(goodTask["result"], "RESULT_SUCCESS") << daemonLog();
    EXPECT_EQ(stopDaemon(), 0);
    auto failed = runBinary({"jobs", "--config", config_.string(), "--json", "--failed"});
    auto list = Json::parse(failed.out);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_TRUE(has(list[0]["exit_reason"].get<std::string>(), "invalid YAML"));
}

// The forges store a row as one line: a multi-line reason (a workflow error with its source line
// and caret) arrives as one row per line, each marked as an error.
TEST_F(DaemonE2E, AMultiLineReasonArrivesAsOneRowPerLine) {
    startDaemon();
    const int64_t bad = enqueue(
        "on: push\njobs:\n  build:\n    runs-on: nix\n    step:\n      - run: echo hi\n");
    auto task = forge_.waitJob(bad, true, true, 60);
    EXPECT_EQ(task["result"], "RESULT_FAILURE") << daemonLog();
    std::vector<std::string> errors;
    for (const auto& row : task["log"]) {
        const std::string content = row.value("content", "");
        EXPECT_EQ(content.find('\n'), std::string::npos) << "a row holds a newline: " << content;
        if (content.rfind("##[error]", 0) == 0) errors.push_back(content);
    }
    ASSERT_GE(errors.size(), 3u) << logText(task);
    EXPECT_EQ(errors[0], "##[error]the task's workflow is invalid:") << logText(task);
    bool caret = false;
    for (const auto& e : errors) caret = caret || has(e, "^");
    EXPECT_TRUE(caret) << "the caret line is an error row of its own: " << logText(task);
    EXPECT_EQ(stopDaemon(), 0);
}

TEST_F(DaemonE2E, CancellationOnTheForgeStopsTheJobWithinTwoSeconds) {
    const auto fifo = dir_.path() / "running";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    startDaemon();
    const int64_t job =
        enqueue("on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo up > " +
                fifo.string() + "; sleep 60\n      - run: echo after\n");
    ASSERT_EQ(waitForFifo(fifo), "up\n") << daemonLog();
    const int64_t taskId = forge_.waitJob(job, false)["id"];
    const auto cancelled = Clock::now();
    forge_.admin("cancel", {{"task_id", taskId}});
    auto task = forge_.waitJob(job, true, true, 30);
    EXPECT_LT(Clock::now() - cancelled, std::chrono::seconds(3))
        << "the daemon took too long to stop the job";
    EXPECT_EQ(task["result"], "RESULT_CANCELLED");
    EXPECT_FALSE(has(logText(task), "after"));
    EXPECT_EQ(stopDaemon(), 0);
    auto jobs = jobsJson();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0]["status"], "cancelled");
    EXPECT_EQ(jobs[0]["exit_reason"], "cancelled on the forge");
}

// The forges show a step's rows only below its logLength: a running step's length has to grow
// with its log, not stay 0 until the step ends.
TEST_F(DaemonE2E, ARunningStepsLogLengthGrowsWhileItRuns) {
    const auto running = dir_.path() / "running";
    const auto resume = dir_.path() / "resume";
    ASSERT_EQ(::mkfifo(running.c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo(resume.c_str(), 0600), 0);
    startDaemon();
    const int64_t job = enqueue(
        "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: |\n"
        "          echo first\n          echo up > " + running.string() + "\n"
        "          read -r go < " + resume.string() + "\n          echo second; echo third\n"
        "          echo up > " + running.string() + "\n          read -r go < " + resume.string() +
        "\n");
    // The step's length as the forge holds it while the step has no result yet; 0 until then.
    auto runningLength = [&](int64_t at_least) {
        const auto deadline = Clock::now() + std::chrono::seconds(30);
        int64_t length = 0;
        while (Clock::now() < deadline) {
            auto task = forge_.waitJob(job, false);
            const auto& step = task["steps"].value("0", Json::object());
            EXPECT_EQ(step.value("result", "RESULT_UNSPECIFIED"), "RESULT_UNSPECIFIED") << task;
            length = step.value("logLength", int64_t{0});
            if (length >= at_least) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return length;
    };
    auto release = [&] {
        nixjail::base::UniqueFd w(::open(resume.c_str(), O_WRONLY | O_CLOEXEC));
        ASSERT_TRUE(w) << "opening the resume fifo";
        ASSERT_EQ(::write(w.get(), "go\n", 3), 3);
    };
    ASSERT_EQ(waitForFifo(running), "up\n") << daemonLog();
    const int64_t before = runningLength(1);
    EXPECT_GE(before, 1) << "the running step's first row is not in its log range";
    release();
    ASSERT_EQ(waitForFifo(running), "up\n") << daemonLog();
    const int64_t after = runningLength(before + 2);
    EXPECT_GE(after, before + 2) << "the running step's log range did not grow";
    release();
    auto task = forge_.waitJob(job, true, true, 60);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS") << daemonLog();
    const auto& step = task["steps"]["0"];
    const auto log = task["log"];
    std::string rows;
    for (int64_t i = 0; i < step["logLength"].get<int64_t>(); ++i)
        rows += log[static_cast<size_t>(step["logIndex"].get<int64_t>() + i)].value("content", "") +
                "\n";
    EXPECT_TRUE(has(rows, "first\nsecond\nthird\n")) << rows;
    EXPECT_EQ(stopDaemon(), 0);
}

// ::debug:: lines and the runner's debug rows (each step's shell command) reach the forge only
// with ACTIONS_STEP_DEBUG true in the task's secrets or vars, GitHub's rule.
TEST_F(DaemonE2E, DebugRowsAreSentOnlyWithActionsStepDebug) {
    startDaemon();
    const std::string yaml =
        "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n"
        "      - run: echo '::debug::a detail'; echo visible\n";
    const int64_t plain = enqueue(yaml);
    const int64_t by_var = enqueue(
        yaml, {{"context", {{"repository", "acme/app"}}}, {"vars", {{"ACTIONS_STEP_DEBUG", "true"}}}});
    const int64_t by_secret =
        enqueue(yaml, {{"context", {{"repository", "acme/app"}}},
                       {"secrets", {{"ACTIONS_STEP_DEBUG", "true"}}}});
    const auto plainLog = logText(forge_.waitJob(plain, true, true, 60));
    EXPECT_TRUE(has(plainLog, "visible")) << plainLog << daemonLog();
    EXPECT_FALSE(has(plainLog, "##[debug]")) << plainLog;
    EXPECT_FALSE(has(plainLog, "a detail")) << plainLog;
    for (int64_t job : {by_var, by_secret}) {
        const auto log = logText(forge_.waitJob(job, true, true, 60));
        EXPECT_TRUE(has(log, "##[debug]a detail\n")) << log;
        EXPECT_TRUE(has(log, "##[debug]shell: bash -e ")) << log;
    }
    EXPECT_EQ(stopDaemon(), 0);
}

TEST_F(DaemonE2E, ForgeErrorsAreRetriedAndCountedInMetrics) {
    const int port = freePort();
    writeConfig("", "\"127.0.0.1:" + std::to_string(port) + "\"");
    forge_.admin("fault", {{"procedure", "runner.v1.RunnerService/FetchTask"},
                           {"count", 3},
                           {"status", 500},
                           {"code", "internal"}});
    // The job ends before its first periodic report: the failed upload is the final one, retried.
    forge_.admin("fault", {{"procedure", "runner.v1.RunnerService/UpdateLog"},
                           {"count", 1},
                           {"status", 503},
                           {"code", "unavailable"}});
    startDaemon();
    const int64_t job = enqueue(kGoodJob);
    auto task = forge_.waitJob(job, true, true, 60);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS") << daemonLog();
    EXPECT_TRUE(has(daemonLog(), "fetching a task failed, retrying")) << daemonLog();
    const auto metrics = httpGet(port, "/metrics");
    EXPECT_TRUE(has(metrics, "nixjail_fetch_errors_total 3\n")) << metrics;
    EXPECT_TRUE(has(metrics, "nixjail_report_errors_total 1\n")) << metrics;
    EXPECT_TRUE(has(metrics, "nixjail_job_duration_seconds_count 1\n")) << metrics;
    EXPECT_TRUE(has(metrics, "nixjail_jobs_total{status=\"success\"} 1\n")) << metrics;
    EXPECT_TRUE(has(metrics, "nixjail_phase_duration_seconds_count{phase=\"execution\"} 1\n"))
        << metrics;
    EXPECT_TRUE(has(metrics, "nixjail_active_jobs 0\n")) << metrics;
    EXPECT_EQ(stopDaemon(), 0);
}

TEST_F(DaemonE2E, ForgeOutageMidJobLosesNoResult) {
    const auto running = dir_.path() / "running";
    const auto resume = dir_.path() / "resume";
    ASSERT_EQ(::mkfifo(running.c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo(resume.c_str(), 0600), 0);
    startDaemon();
    const int64_t job =
        enqueue("on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo up > " +
                running.string() + "; cat " + resume.string() + "; echo working\n");
    // The daemon has the task (its step runs) before the forge goes away ...
    ASSERT_EQ(waitForFifo(running), "up\n") << daemonLog();
    forge_.stop();
    {
        nixjail::base::UniqueFd w(::open(resume.c_str(), O_WRONLY | O_CLOEXEC));
        ASSERT_TRUE(w) << "opening the resume fifo";
        ASSERT_EQ(::write(w.get(), "go\n", 3), 3);
    }
    // ... the job ends while it is away, and its final report is retried ...
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (!has(daemonLog(), "reporting the result failed, retrying") && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(has(daemonLog(), "reporting the result failed, retrying")) << daemonLog();
    forge_.start();  // ... until it comes back with its state.
    auto task = forge_.waitJob(job, true, true, 60);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS") << daemonLog();
    EXPECT_TRUE(has(logText(task), "working"));
    EXPECT_EQ(stopDaemon(), 0);
    EXPECT_EQ(jobsJson()[0]["status"], "success");
}

// A forge that cannot be reached at start is named (its URL and the error) at once, and the daemon
// keeps trying until it answers.
TEST_F(DaemonE2E, AnUnreachableForgeAtStartIsReportedAndRetried) {
    forge_.stop();
    startDaemon();
    const std::string said = "cannot reach the forge at '" + forge_.url() + "'";
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (!has(daemonLog(), said) && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto log = daemonLog();
    ASSERT_TRUE(has(log, said)) << log;
    EXPECT_TRUE(has(log, " error [")) << "logged as an error: " << log;
    EXPECT_TRUE(has(log, "/api/actions/runner.v1.RunnerService/Declare' failed: ")) << log;
    EXPECT_TRUE(has(log, (dir_.path() / ".runner").string())) << log;
    forge_.start();  // the daemon still runs and gets to the forge now
    const int64_t job = enqueue(kGoodJob);
    EXPECT_EQ(forge_.waitJob(job, true, true, 60)["result"], "RESULT_SUCCESS") << daemonLog();
    EXPECT_TRUE(has(daemonLog(), "after 1 failed attempt")) << daemonLog();
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
}

TEST_F(DaemonE2E, UnknownRunnerStopsWithAReRegisterMessage) {
    auto runner = Json::parse(nixjail::base::readFile(dir_.path() / ".runner"));
    forge_.admin("delete-runner", {{"uuid", runner["uuid"]}});
    startDaemon();
    EXPECT_EQ(daemon_.wait().exitCode(), 1);
    EXPECT_TRUE(has(daemonLog(), "register it again with `nixjail-runner register`"))
        << daemonLog();
}

TEST_F(DaemonE2E, SigtermCancelsARunningJobAfterTheGracePeriodAndReportsIt) {
    const auto fifo = dir_.path() / "running";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    startDaemon();
    const int64_t job =
        enqueue("on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo up > " +
                fifo.string() + "; sleep 60\n");
    ASSERT_EQ(waitForFifo(fifo), "up\n") << daemonLog();
    const auto start = Clock::now();
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
    auto task = forge_.waitJob(job, true, true, 5);
    EXPECT_EQ(task["result"], "RESULT_CANCELLED");
    auto jobs = jobsJson();
    EXPECT_EQ(jobs[0]["status"], "cancelled");
    EXPECT_EQ(jobs[0]["exit_reason"], "cancelled: the runner is shutting down");
}

TEST_F(DaemonE2E, SigtermLetsAShortJobFinish) {
    writeConfig("  shutdown_timeout: 30s\n");
    const auto fifo = dir_.path() / "running";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    startDaemon();
    const int64_t job =
        enqueue("on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo up > " +
                fifo.string() + "; sleep 1; echo finished\n");
    ASSERT_EQ(waitForFifo(fifo), "up\n") << daemonLog();
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
    auto task = forge_.waitJob(job, true, true, 5);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS");
    EXPECT_TRUE(has(logText(task), "finished"));
}

TEST_F(DaemonE2E, OneJobRunsOneTaskAndExits) {
    auto none = runBinary({"one-job", "--config", config_.string()}, dir_.path());
    EXPECT_EQ(none.exit_code, 3) << none.err;
    const int64_t job = enqueue(kGoodJob);
    auto r = runBinary({"one-job", "--config", config_.string(), "--wait", "10s"}, dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto task = forge_.waitJob(job, true, true, 5);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS");
    const int64_t failing =
        enqueue("on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: exit 1\n");
    EXPECT_EQ(runBinary({"one-job", "--config", config_.string(), "--wait", "10s"}, dir_.path())
                  .exit_code,
              1);
    EXPECT_EQ(forge_.waitJob(failing, true, true, 5)["result"], "RESULT_FAILURE");
}

// The job that checks acme/app out twice (default depth, then fetch-depth: 0 into full/) and
// asks git about both.
const char* kOwnCheckoutJob = R"Y(on: push
jobs:
  t:
    runs-on: nix
    steps:
      - uses: actions/checkout@v4
      - run: |
          cat README.md
          echo "head $(git rev-parse HEAD) on $(git branch --show-current)"
          echo "shallow $(git rev-parse --is-shallow-repository) $(git rev-list --count HEAD)"
          git log -1 --format='last commit %s'
      - uses: actions/checkout@v4
        with: {fetch-depth: 0, path: full}
      - run: echo "described $(git -C full describe --tags)"
)Y";

// What the job of kOwnCheckoutJob printed when the checkouts are as actions/checkout leaves them:
// the triggering commit, on a local branch named after the ref, one commit deep by default;
// fetch-depth: 0 brings the history and its tags.
void expectOwnCheckoutAsOnGitHub(const std::string& log, const std::string& sha) {
    EXPECT_TRUE(has(log, "checked out from the forge")) << log;
    EXPECT_TRUE(has(log, "head " + sha + " on main")) << log;
    EXPECT_TRUE(has(log, "shallow true 1")) << log;
    EXPECT_TRUE(has(log, "last commit second")) << log;
    EXPECT_TRUE(has(log, "described v1-1-g" + sha.substr(0, 7))) << log;
}

Json ownCheckoutContext(const fs::path& forgeRoot, const std::string& sha) {
    return {{"context",
             {{"repository", "acme/app"},
              {"ref", "refs/heads/main"},
              {"sha", sha},
              {"server_url", "file://" + forgeRoot.string()}}}};
}

TEST_F(DaemonE2E, OwnRepositoryIsCheckedOutThroughTheCheckoutCache) {
    const std::string sha = makeAppRepository(dir_.path() / "git");
    startDaemon();
    const int64_t job = enqueue(kOwnCheckoutJob, ownCheckoutContext(dir_.path() / "git", sha));
    auto task = forge_.waitJob(job, true, true, 60);
    const std::string log = logText(task);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS") << log << daemonLog();
    expectOwnCheckoutAsOnGitHub(log, sha);
    EXPECT_EQ(stopDaemon(), 0);
}

// The same checkouts in the namespace jail, where git sees only the closure's packages and the
// snapshot the checkout cache made: the repository is complete without the host. Needs root and
// Nix.
TEST_F(DaemonE2E, OwnRepositoryCheckedOutIntoTheJailIsARepositoryThere) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    const std::string sha = makeAppRepository(dir_.path() / "git");
    writeConfig("", "\"\"", jailedNixConfig("bash, coreutils, git"));
    startOfflineNixDaemon();
    const int64_t job = enqueue(kOwnCheckoutJob, ownCheckoutContext(dir_.path() / "git", sha));
    auto task = forge_.waitJob(job, true, true, 180);
    const std::string log = logText(task);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS") << log << daemonLog();
    expectOwnCheckoutAsOnGitHub(log, sha);
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
}

TEST_F(DaemonE2E, LocalActionsNeedTheCheckoutFirst) {
    const auto origin = dir_.path() / "git" / "acme" / "app";
    fs::create_directories(origin / "local-action");
    fs::copy_file(nixjail::e2e::kSource / "tests/e2e/actions/local-composite/action.yml",
                  origin / "local-action/action.yml");
    for (std::vector<std::string> a : {std::vector<std::string>{"init", "-q"}, {"add", "."}, {"commit", "-qm", "first"}}) {
        a.insert(a.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"});
        auto c = ChildProcess::spawn({.argv = a, .env = baseEnv(), .cwd = origin});
        ASSERT_EQ(c.wait().exitCode(), 0);
    }
    const Json context = {{"repository", "acme/app"},
                          {"ref", "refs/heads/main"},
                          {"server_url", "file://" + (dir_.path() / "git").string()}};
    startDaemon();
    const std::string uses = "      - uses: ./local-action\n        with: {who: the checkout}\n";
    auto without = forge_.waitJob(
        enqueue("on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n" + uses, {{"context", context}}), true,
        true, 60);
    EXPECT_EQ(without["result"], "RESULT_FAILURE") << logText(without);
    EXPECT_TRUE(has(logText(without), "local action './local-action' not found in the workspace; did a checkout "
                                      "step run first?"))
        << logText(without);
    auto with = forge_.waitJob(
        enqueue("on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - uses: actions/checkout@v4\n" + uses,
                {{"context", context}}),
        true, true, 60);
    EXPECT_EQ(with["result"], "RESULT_SUCCESS") << logText(with) << daemonLog();
    EXPECT_TRUE(has(logText(with), "from the local action, in the checkout")) << logText(with);
    EXPECT_EQ(stopDaemon(), 0);
}

TEST_F(DaemonE2E, KilledMidJobTheRestartedDaemonFailsTheInterruptedTask) {
    const auto fifo = dir_.path() / "running";
    const auto pidfile = dir_.path() / "step.pid";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    startDaemon();
    const int64_t job =
        enqueue("on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo $$ > " +
                pidfile.string() + "; echo up > " + fifo.string() + "; exec sleep 60\n");
    ASSERT_EQ(waitForFifo(fifo), "up\n") << daemonLog();
    ::kill(daemon_.pid(), SIGKILL);
    daemon_.wait();
    // The host executor's step outlives a SIGKILLed runner (the jails do not): end it here.
    ::kill(std::stoi(nixjail::base::readFile(pidfile)), SIGKILL);
    EXPECT_EQ(jobsJson()[0]["status"], "running");
    startDaemon();
    auto task = forge_.waitJob(job, true, false, 30);
    EXPECT_EQ(task["result"], "RESULT_FAILURE") << daemonLog();
    EXPECT_EQ(stopDaemon(), 0);
    auto jobs = jobsJson();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0]["status"], "failure");
    EXPECT_EQ(jobs[0]["exit_reason"], "the runner stopped while the job ran");
}

// The namespace jail with a Nix-built root per label; needs root and Nix.
// Under the systemd executor concurrent jobs share the step uid (no pid namespace for a unit
// before systemd 257): a capacity above 1 is allowed, with a warning that says what it means.
// Runs under a booted systemd only (tests/systemd/suite).
TEST_F(DaemonE2E, SystemdExecutorWithCapacityAboveOneWarnsThatJobsShareTheStepUid) {
    if (nixjail::e2e::jailBackend() != "systemd")
        GTEST_SKIP() << "needs NIXJAIL_E2E_JAIL_BACKEND=systemd (tests/systemd/suite)";
    writeConfig("  capacity: 2\n", "\"\"", "executor: {backend: systemd}\n");
    startDaemon();
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline && !has(daemonLog(), "ready: capacity 2, executor systemd"))
        ::usleep(50 * 1000);
    const auto log = daemonLog();
    EXPECT_TRUE(has(log, "executor systemd with capacity 2: jobs running at the same time share "
                         "the step uid"))
        << log;
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
}

TEST_F(DaemonE2E, NamespaceJailRunsTheJobAndRecordsRootPhasesAndCacheHits) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    const int port = freePort();
    writeConfig("", "\"127.0.0.1:" + std::to_string(port) + "\"",
                jailedNixConfig("bash, coreutils"));
    startOfflineNixDaemon();
    const std::string yaml =
        "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo \"uid=$(id -u)\"; "
        "test -e /etc/debian_version && echo host-visible || echo host-hidden; "
        "touch /nix/store/nixjail-pwned 2>/dev/null && echo store-writable || echo store-read-only\n";
    const int64_t first = enqueue(yaml);
    auto task = forge_.waitJob(first, true, true, 120);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS") << logText(task) << daemonLog();
    EXPECT_TRUE(has(logText(task), "host-hidden")) << logText(task);
    EXPECT_TRUE(has(logText(task), "store-read-only")) << logText(task);
    EXPECT_FALSE(fs::exists("/nix/store/nixjail-pwned"));
    // The jail checked itself before the step, limits included (under systemd too: its recorder
    // reads them from the unit's cgroup).
    EXPECT_TRUE(has(logText(task), "Jail self-check passed in ")) << logText(task);
    EXPECT_TRUE(has(logText(task), "cgroup (memory ")) << logText(task) << daemonLog();
    const int64_t second = enqueue(yaml);
    EXPECT_EQ(forge_.waitJob(second, true, true, 120)["result"], "RESULT_SUCCESS");
    // The closure's size: the sum of its store paths' sizes, for both jobs (a root cache hit too).
    const auto metrics = httpGet(port, "/metrics");
    EXPECT_TRUE(has(metrics, "nixjail_closure_size_bytes ")) << metrics;
    EXPECT_FALSE(has(metrics, "nixjail_closure_size_bytes 0\n")) << metrics;
    EXPECT_FALSE(has(metrics, "nixjail_closure_paths_total 0\n")) << metrics;
    EXPECT_TRUE(has(metrics, "nixjail_cache_hits_total{cache_type=\"root\"} 1\n")) << metrics;
    EXPECT_TRUE(has(metrics, "nixjail_phase_duration_seconds_count{phase=\"root_prepare\"} 2\n"))
        << metrics;
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
    auto jobs = jobsJson();
    ASSERT_EQ(jobs.size(), 2u);
    for (const auto& j : jobs) {
        EXPECT_TRUE(j["phase_ms"].contains("closure_resolution")) << j;
        EXPECT_TRUE(j["phase_ms"].contains("root_prepare")) << j;
        EXPECT_GT(j["closure_path_count"].get<int64_t>(), 0) << j;
        // Bash and coreutils with glibc: megabytes, not a handful of bytes.
        EXPECT_GT(j["closure_size_bytes"].get<int64_t>(), int64_t{1} << 20) << j;
    }
    EXPECT_EQ(jobs[0]["root_cache_hit"], true) << "the second job finds its root in the cache";
    EXPECT_EQ(jobs[0]["closure_cache_hit"], true) << "and its closure without calling Nix";
    EXPECT_TRUE(has(metrics, "nixjail_cache_hits_total{cache_type=\"closure\"} 1\n")) << metrics;
    auto stats = Json::parse(runBinary({"stats", "--config", config_.string(), "--json"}).out);
    EXPECT_GE(stats["cache"]["root"]["hits"].get<int>(), 1) << stats;
}

// The daemon runs a job's services too: a Redis in the job's network, its ready log in the forge's
// log, its services_start phase in the job's record. Needs root, Nix and the fixture binaries.
TEST_F(DaemonE2E, AJobsServiceRunsBesideItAndItsStartIsRecorded) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    if (!fs::exists("/opt/nixjail-services/.complete")) {
        NIXJAIL_E2E_REQUIRE("needs the Redis binaries in /opt/nixjail-services (run .ci/install-deps as root)");
    }
    writeConfig("", "\"\"", jailedNixConfig("bash, coreutils, redis"));
    startOfflineNixDaemon();
    const int64_t job = enqueue(R"Y(on: push
jobs:
  t:
    runs-on: nix
    services:
      cache:
        image: redis:7
    steps:
      - run: redis-cli -h cache set k from-the-service > /dev/null && redis-cli -h cache get k
)Y");
    auto task = forge_.waitJob(job, true, true, 120);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS") << logText(task) << daemonLog();
    EXPECT_TRUE(has(logText(task), "from-the-service")) << logText(task);
    EXPECT_TRUE(has(logText(task), "Service 'cache' (redis:7) ready in ")) << logText(task);
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
    auto jobs = jobsJson();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_TRUE(jobs[0]["phase_ms"].contains("services_start")) << jobs[0];
}

// A jailed job sees the task's token only as a dummy; its proxy puts the real token back into
// requests to the forge, here plain http on the runner's own host, which the runner pins (that
// port only) for its jobs. Needs root and Nix.
TEST_F(DaemonE2E, JailedJobsGetADummyTokenThatWorksOnTheForgeOnly) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    writeConfig("", "\"\"", jailedNixConfig("bash, coreutils, curl, gnugrep"));
    startOfflineNixDaemon();
    const int64_t job = enqueue(R"Y(on: push
jobs:
  t:
    runs-on: nix
    steps:
      - run: |
          echo "seen=${{ github.token }}"
          test "${{ secrets.GITHUB_TOKEN }}" = "${{ github.token }}" && echo secret-is-the-same-dummy
          curl -sS --fail -H "Authorization: token ${{ github.token }}" "${{ github.server_url }}/api/v1/user"; echo
          curl -sS --fail -u "x-access-token:${{ secrets.GITEA_TOKEN }}" "${{ github.server_url }}/api/v1/user"; echo
          curl -sS --noproxy '*' --connect-timeout 3 "${{ github.server_url }}/api/v1/user" || echo direct-refused
          echo "runtime=$ACTIONS_RUNTIME_TOKEN"
          claims=$(echo "$ACTIONS_RUNTIME_TOKEN" | cut -d. -f2 | tr '_-' '/+')
          while [ $(( ${#claims} % 4 )) != 0 ]; do claims="$claims="; done
          echo "$claims" | base64 -d | grep -o '"scp": "Actions.Results:[0-9]*:[0-9]*' || echo no-claims
          status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ACTIONS_RUNTIME_TOKEN" \
            "${ACTIONS_CACHE_URL}_apis/artifactcache/cache?keys=nothing-yet&version=1")
          echo "cache lookup $status"
          curl -sS --fail -X POST -H "Authorization: Bearer $ACTIONS_RUNTIME_TOKEN" -H 'Content-Type: application/json' \
            -d '{}' "${ACTIONS_RESULTS_URL}/twirp/github.actions.results.api.v1.ArtifactService/ListArtifacts"; echo
)Y");
    auto task = forge_.waitJob(job, true, true, 120);
    const std::string log = logText(task);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS") << log << daemonLog();
    const std::string login =
        "{\"login\": \"task-" + std::to_string(task["id"].get<int64_t>()) + "\"}";
    size_t logins = 0;
    for (size_t at = log.find(login); at != std::string::npos; at = log.find(login, at + 1))
        ++logins;
    EXPECT_EQ(logins, 2u) << log;
    // The real token would show masked ("seen=***"); the dummy has its shape and is not masked.
    const auto seen = log.find("seen=");
    ASSERT_NE(seen, std::string::npos) << log;
    const std::string dummy = log.substr(seen + 5, 40);
    EXPECT_EQ(dummy.find_first_not_of("0123456789abcdef"), std::string::npos) << log;
    EXPECT_TRUE(has(log, "secret-is-the-same-dummy")) << log;
    EXPECT_TRUE(has(log, "direct-refused")) << log;
    // The runtime token is a JWT: its dummy keeps the claims the artifact client reads (and is not
    // masked, unlike the real one), and has a signature of its own that the proxy swaps back for
    // the forge's artifact API (which checks it) and for the runner's cache server.
    const auto runtime = log.find("runtime=");
    ASSERT_NE(runtime, std::string::npos) << log;
    EXPECT_EQ(log.substr(runtime + 8, 3), "eyJ") << log;
    EXPECT_TRUE(has(log, "\"scp\": \"Actions.Results:")) << log;
    EXPECT_TRUE(has(log, "{\"artifacts\": []}")) << log;
    EXPECT_TRUE(has(log, "cache lookup 204")) << log;
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
}

// A job that declares no packages, for a repository with a flake, runs in a root holding its
// devShell at the task's commit; the flake reads another file of the repository (./nix), so the
// whole tree comes through the checkout cache.
TEST_F(DaemonE2E, AJobWithoutPackagesGetsTheDevShellOfTheTasksCommit) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    const auto origin = dir_.path() / "git" / "acme" / "app";
    fs::create_directories(origin / "nix");
    fs::copy_file(nixjail::e2e::kSource / "tests/fixtures/nix/default.nix",
                  origin / "nix/default.nix");
    nixjail::base::writeFile(origin / "flake.nix", R"N({
  outputs = { self }:
    let pkgs = import ./nix { system = "x86_64-linux"; };
    in {
      devShells.x86_64-linux.default = derivation {
        name = "shell";
        system = "x86_64-linux";
        builder = "/bin/sh";
        nativeBuildInputs = [ pkgs.bash ];
        buildInputs = [ pkgs.coreutils ];
      };
    };
}
)N");
    auto git = [&](std::vector<std::string> a) {
        a.insert(a.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                             "init.defaultBranch=main"});
        auto c = ChildProcess::spawn({.argv = a, .env = baseEnv(), .cwd = origin});
        ASSERT_EQ(c.wait().exitCode(), 0);
    };
    git({"init", "-q"});
    git({"add", "."});
    git({"commit", "-qm", "flake"});
    std::string sha = nixjail::base::readFile(origin / ".git/refs/heads/main");
    sha.erase(sha.find_last_not_of("\n") + 1);
    ASSERT_EQ(sha.size(), 40u) << sha;
    writeConfig("", "\"\"", "executor: {backend: " + nixjail::e2e::jailBackend() + "}\n");
    startOfflineNixDaemon();
    const Json ctx = {{"repository", "acme/app"},
                      {"workflow", "ci.yml"},
                      {"sha", sha},
                      {"server_url", "file://" + (dir_.path() / "git").string()}};
    const std::string yaml =
        "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n"
        "      - run: echo \"store:\" /nix/store/*\n";
    auto first = forge_.waitJob(enqueue(yaml, {{"context", ctx}}), true, true, 180);
    const std::string log = logText(first);
    ASSERT_EQ(first["result"], "RESULT_SUCCESS") << log << daemonLog();
    EXPECT_TRUE(has(log, "Job root: built from the devShell of flake.nix in file://")) << log;
    EXPECT_TRUE(has(log, " at " + sha.substr(0, 12) + " (2 packages)")) << log;
    const auto store = log.substr(log.find("store:"));
    for (const char* want : {"-nixjail-test-bash ", "-nixjail-test-coreutils "})
        EXPECT_TRUE(has(store, want)) << want << "\n" << log;
    EXPECT_FALSE(has(store, "curl")) << log;  // in the package set, not in the shell
    // The next job of that commit finds the devShell resolved and its root cached.
    auto second = forge_.waitJob(enqueue(yaml, {{"context", ctx}}), true, true, 120);
    EXPECT_EQ(second["result"], "RESULT_SUCCESS") << logText(second) << daemonLog();
    EXPECT_TRUE(has(logText(second), "Job root: cached from the devShell of flake.nix in"))
        << logText(second);
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
}

// A forge whose name resolves to the runner's own host (here: a name with no DNS at all) is
// reached through proxy.host_overrides, which pins the name to the forge's IP:PORT; the job's
// dummy token works there, and a name that is not pinned stays unreachable.
TEST_F(DaemonE2E, HostOverridesPinAForgeNameToTheRunnersHost) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    const std::string port = forge_.url().substr(forge_.url().rfind(':') + 1);
    writeConfig("", "\"\"",
                jailedNixConfig("bash, coreutils, curl",
                                "proxy:\n  host_overrides: {forge.test: \"127.0.0.1:" + port + "\"}\n"));
    startOfflineNixDaemon();
    const Json ctx = {{"repository", "acme/app"},
                      {"workflow", "ci.yml"},
                      {"server_url", "http://forge.test:" + port}};
    const int64_t job = enqueue(R"Y(on: push
jobs:
  t:
    runs-on: nix
    steps:
      - run: |
          curl -sS --fail -H "Authorization: token ${{ github.token }}" "${{ github.server_url }}/api/v1/user"; echo
          curl -sS --fail --max-time 5 "http://unpinned.test:$FORGE_PORT/api/v1/user" || echo unpinned-refused
    env:
      FORGE_PORT: ")Y" + port + "\"\n",
                                {{"context", ctx}});
    auto task = forge_.waitJob(job, true, true, 120);
    const std::string log = logText(task);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS") << log << daemonLog();
    EXPECT_TRUE(has(log, "{\"login\": \"task-" + std::to_string(task["id"].get<int64_t>()) + "\"}"))
        << log;
    EXPECT_TRUE(has(log, "unpinned-refused")) << log;
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
}

// The daemon runs an actions/cache server: a job of a repository saves an entry, the next job of
// that repository restores it, a job of another repository cannot; jobs get the forge's runtime
// variables.
TEST_F(DaemonE2E, ActionsCacheIsSharedByTheJobsOfOneRepositoryOnly) {
    startDaemon();
    const std::string client =
        (nixjail::e2e::kSource / "runner/cache_server/testdata/cache_client.py").string();
    const Json ctx = {
        {"repository", "acme/app"}, {"workflow", "ci.yml"}, {"ref", "refs/heads/main"}};
    const int64_t save = enqueue(
        "on: push\njobs:\n  save:\n    runs-on: nix\n    steps:\n      - run: |\n"
        "          echo \"runtime url $ACTIONS_RUNTIME_URL results $ACTIONS_RESULTS_URL gitea "
        "$GITEA_ACTIONS\"\n"
        "          echo payload-of-the-first-job > p.txt\n"
        "          python3 " +
            client + " save --key deps-1 --version v1 --file p.txt\n",
        {{"context", ctx}});
    auto saved = forge_.waitJob(save, true, true, 60);
    ASSERT_EQ(saved["result"], "RESULT_SUCCESS") << logText(saved) << daemonLog();
    EXPECT_TRUE(has(logText(saved), "runtime url " + forge_.url() +
                                        "/api/actions_pipeline/ results " + forge_.url() +
                                        " gitea true"))
        << logText(saved);
    const std::string restore =
        "on: push\njobs:\n  restore:\n    runs-on: nix\n    steps:\n      - run: |\n"
        "          rc=0; python3 " +
        client +
        " restore --keys deps- --version v1 --out got.txt || rc=$?\n"
        "          if [ $rc = 0 ]; then echo \"restored $(cat got.txt)\"; else echo \"restore exit "
        "$rc\"; fi\n";
    auto same = forge_.waitJob(enqueue(restore, {{"context", ctx}}), true, true, 60);
    EXPECT_TRUE(has(logText(same), "restored payload-of-the-first-job")) << logText(same);
    Json other_ctx = ctx;
    other_ctx["repository"] = "mallory/other";
    auto other = forge_.waitJob(enqueue(restore, {{"context", other_ctx}}), true, true, 60);
    EXPECT_TRUE(has(logText(other), "restore exit 2")) << logText(other);  // a miss
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
    // Each job's use of the cache is in its record: the saved entry's size, what the restore
    // found, the other repository's miss.
    std::map<int64_t, Json> usage;
    for (const auto& j : jobsJson()) usage[j["forge_task_id"].get<int64_t>()] = j["actions_cache"];
    const int64_t entry = static_cast<int64_t>(std::string("payload-of-the-first-job\n").size());
    EXPECT_EQ(usage[saved["id"].get<int64_t>()],
              (Json{{"hits", 0}, {"misses", 0}, {"bytes_saved", entry}, {"bytes_restored", 0}}));
    EXPECT_EQ(usage[same["id"].get<int64_t>()],
              (Json{{"hits", 1}, {"misses", 0}, {"bytes_saved", 0}, {"bytes_restored", entry}}));
    EXPECT_EQ(usage[other["id"].get<int64_t>()],
              (Json{{"hits", 0}, {"misses", 1}, {"bytes_saved", 0}, {"bytes_restored", 0}}));
}

TEST_F(DaemonE2E, CapacityTwoRunsTwoJobsAtOnce) {
    writeConfig("  capacity: 2\n");
    const auto a = dir_.path() / "a", b = dir_.path() / "b";
    ASSERT_EQ(::mkfifo(a.c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo(b.c_str(), 0600), 0);
    startDaemon();
    // Each job waits for the other: they finish only if both run at the same time.
    auto job = [&](const fs::path& mine, const fs::path& other) {
        return enqueue(
            "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: |\n"
            "          echo started > " +
            other.string() +
            " &\n"
            "          read line < " +
            mine.string() +
            "\n"
            "          wait\n          echo \"got $line\"\n");
    };
    const int64_t first = job(a, b), second = job(b, a);
    auto t1 = forge_.waitJob(first, true, true, 60);
    auto t2 = forge_.waitJob(second, true, true, 60);
    EXPECT_EQ(t1["result"], "RESULT_SUCCESS") << logText(t1) << daemonLog();
    EXPECT_EQ(t2["result"], "RESULT_SUCCESS") << logText(t2);
    EXPECT_TRUE(has(logText(t1), "got started"));
    EXPECT_EQ(stopDaemon(), 0);
}

TEST(DaemonGiteaE2E, UnknownRunnerOnGiteaAlsoStopsWithAReRegisterMessage) {
    nixjail::tests::FakeForgeServer forge({.dialect = "gitea"});
    TempDir dir("nixjail-daemon-e2e-");
    auto reg = runBinary({"register", "--instance", forge.url(), "--token",
                          "0123456789abcdef0123456789abcdef01234567", "--labels", "nix",
                          "--no-interactive", "--runner-file", (dir.path() / ".runner").string()});
    ASSERT_EQ(reg.exit_code, 0) << reg.err;
    forge.admin("delete-runner",
                {{"uuid", Json::parse(nixjail::base::readFile(dir.path() / ".runner"))["uuid"]}});
    nixjail::base::writeFile(dir.path() / "c.yaml",
                             "runner: {file: " + (dir.path() / ".runner").string() +
                                 "}\ndatabase: " + (dir.path() / "j.sqlite").string() +
                                 "\nexecutor: {backend: host}\nmetrics: {address: ''}\n");
    auto r = runBinary({"daemon", "--config", (dir.path() / "c.yaml").string()}, dir.path());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(has(r.err, "register it again")) << r.err;
}

TEST(DaemonConfigE2E, GeneratedConfigLoadsAndMistakesPointAtTheLine) {
    TempDir dir("nixjail-daemon-e2e-");
    auto gen = runBinary({"generate-config"});
    ASSERT_EQ(gen.exit_code, 0);
    nixjail::base::writeFile(dir.path() / "config.yaml", gen.out);
    // `stats` loads the whole configuration before it opens the database.
    auto stats = runBinary({"stats", "--config", (dir.path() / "config.yaml").string(),
                            "--database", (dir.path() / "jobs.sqlite").string()});
    EXPECT_EQ(stats.exit_code, 0) << stats.err;
    nixjail::base::writeFile(dir.path() / "bad.yaml",
                             "runner:\n  capacity: 1\n  fech_interval: 2s\n");
    auto bad = runBinary({"daemon", "--config", (dir.path() / "bad.yaml").string()});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_TRUE(has(
        bad.err,
        "bad.yaml:3:3: unknown key 'fech_interval' in 'runner'; did you mean 'fetch_interval'?"))
        << bad.err;
}

TEST(DaemonConfigE2E, AMissingCredentialStopsTheDaemonAtStart) {
    TempDir dir("nixjail-daemon-e2e-");
    const auto runner = dir.path() / ".runner";
    ASSERT_EQ(
        runBinary({"create-runner-file", "--instance", "http://127.0.0.1:9", "--secret",
                   "0123456789abcdef0123456789abcdef01234567", "--runner-file", runner.string()})
            .exit_code,
        0);
    nixjail::base::writeFile(
        dir.path() / "c.yaml",
        "runner: {file: " + runner.string() + "}\ndatabase: " + (dir.path() / "j.sqlite").string() +
            "\nexecutor: {backend: host}\nmetrics: {address: ''}\nproxy:\n  credentials:\n"
            "    - {name: npm, env: NIXJAIL_TEST_UNSET_TOKEN, hosts: [registry.npmjs.org], "
            "header: 'Authorization: Bearer {token}', dummy: npm-dummy-0123}\n");
    auto r = runBinary({"daemon", "--config", (dir.path() / "c.yaml").string()}, dir.path());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(has(r.err, "NIXJAIL_TEST_UNSET_TOKEN")) << r.err;
}

// The job's and each step's CPU time and memory peak, as the host executor measured them (wait4
// rusage), reach the database and `jobs --json`.
// A job that hits its timeout-minutes: the step it stopped shows timed_out in `jobs --json`.
TEST_F(DaemonE2E, AJobThatHitsTimeoutMinutesShowsTimedOut) {
    startDaemon();
    const int64_t job = enqueue(
        "on: push\njobs:\n  t:\n    runs-on: nix\n    timeout-minutes: 0.03\n    steps:\n"
        "      - run: sleep 60\n      - run: echo quick\n");
    auto task = forge_.waitJob(job, true, true, 60);
    EXPECT_EQ(task["result"], "RESULT_FAILURE") << logText(task) << daemonLog();
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
    auto jobs = jobsJson();
    ASSERT_EQ(jobs.size(), 1u);
    ASSERT_EQ(jobs[0]["steps"].size(), 2u) << jobs[0];
    EXPECT_EQ(jobs[0]["steps"][0]["timed_out"], true) << jobs[0];
    EXPECT_EQ(jobs[0]["steps"][1]["timed_out"], false) << jobs[0];
    EXPECT_TRUE(has(jobs[0]["exit_reason"].get<std::string>(), "timeout-minutes")) << jobs[0];
}

// A JavaScript action's step that hits its timeout-minutes shows timed_out too, as a run: step
// does; so does the step running when runner.job_timeout stops a job (not "cancelled").
TEST_F(DaemonE2E, AJavaScriptStepAndTheRunnersJobTimeoutShowTimedOut) {
    const auto origin = dir_.path() / "git" / "acme" / "app";
    fs::create_directories(origin / "slow");
    nixjail::base::writeFile(origin / "slow/action.yml",
                             "name: slow\nruns:\n  using: node20\n  main: main.js\n");
    nixjail::base::writeFile(origin / "slow/main.js",
                             "console.log('slow action started');\nsetTimeout(() => {}, 60000);\n");
    for (std::vector<std::string> a :
         {std::vector<std::string>{"init", "-q"}, {"add", "."}, {"commit", "-qm", "first"}}) {
        a.insert(a.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                             "init.defaultBranch=main"});
        auto c = ChildProcess::spawn({.argv = a, .env = baseEnv(), .cwd = origin});
        ASSERT_EQ(c.wait().exitCode(), 0);
    }
    const Json context = {{"repository", "acme/app"},
                          {"ref", "refs/heads/main"},
                          {"server_url", "file://" + (dir_.path() / "git").string()}};
    writeConfig("  job_timeout: 3s\n");
    startDaemon();
    auto js = forge_.waitJob(
        enqueue("on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n"
                "      - uses: actions/checkout@v4\n"
                "      - uses: ./slow\n        timeout-minutes: 0.01\n",
                {{"context", context}}),
        true, true, 60);
    EXPECT_EQ(js["result"], "RESULT_FAILURE") << logText(js) << daemonLog();
    EXPECT_TRUE(has(logText(js), "slow action started")) << logText(js);
    auto capped = forge_.waitJob(
        enqueue("on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: sleep 60\n"),
        true, true, 60);
    EXPECT_EQ(capped["result"], "RESULT_FAILURE") << logText(capped) << daemonLog();
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
    auto jobs = jobsJson();  // newest first
    ASSERT_EQ(jobs.size(), 2u);
    ASSERT_EQ(jobs[1]["steps"].size(), 2u) << jobs[1];
    EXPECT_EQ(jobs[1]["steps"][1]["timed_out"], true) << jobs[1];
    ASSERT_EQ(jobs[0]["steps"].size(), 1u) << jobs[0];
    EXPECT_EQ(jobs[0]["steps"][0]["timed_out"], true) << jobs[0];
    EXPECT_EQ(jobs[0]["steps"][0]["status"], "failure") << jobs[0];
    EXPECT_EQ(jobs[0]["exit_reason"], "the job exceeded runner.job_timeout and was stopped")
        << jobs[0];
}

TEST_F(DaemonE2E, JobsRecordPeakMemoryAndCpuSeconds) {
    startDaemon();
    const int64_t job = enqueue(R"Y(
on: push
jobs:
  hog:
    runs-on: nix
    steps:
      - name: allocate and burn
        run: python3 -c "b = b'x' * (50 << 20); print(len(b), sum(range(5 * 10**6)))"
      - name: small
        run: "true"
)Y");
    auto task = forge_.waitJob(job, true, true, 60);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS") << logText(task) << daemonLog();
    EXPECT_EQ(stopDaemon(), 0) << daemonLog();
    auto jobs = jobsJson();
    ASSERT_EQ(jobs.size(), 1u);
    const auto& j = jobs[0];
    ASSERT_TRUE(j["peak_memory_bytes"].is_number()) << j;
    EXPECT_GE(j["peak_memory_bytes"].get<int64_t>(), int64_t{40} << 20) << j;
    ASSERT_TRUE(j["cpu_seconds"].is_number()) << j;
    EXPECT_GT(j["cpu_seconds"].get<double>(), 0.0) << j;
    ASSERT_EQ(j["steps"].size(), 2u) << j;
    const auto& hog = j["steps"][0];
    EXPECT_GE(hog["peak_memory_bytes"].get<int64_t>(), int64_t{40} << 20) << j;
    EXPECT_GT(hog["cpu_seconds"].get<double>(), 0.0) << j;
    // No upper bound for the small step: under the host executor its peak includes the runner's
    // own resident size at the spawn (vfork-style), which is hundreds of MiB under ASan.
    EXPECT_GE(j["cpu_seconds"].get<double>(), hog["cpu_seconds"].get<double>()) << j;
}

}  // namespace
