// daemon_bench: the real `nixjail-runner daemon` against the fake forge (tests/support).
//  (a) warm job overhead of a 1-step `run: true` job, one job at a time: fetched -> first step
//      running -> result reported;
//  (b) 200 queued trivial jobs at capacity 8: throughput, p99 latency enqueued -> reported, and the
//      daemon's peak RSS.
// act_runner / forgejo-runner are not installable here, so the side-by-side peer is the floor:
// `bash -c true` spawned per job (one at a time for (a), 8 workers for (b)). With the namespace
// executor, (b) also runs the same jobs each in one bwrap call (every namespace new), the cost of
// any namespace jail here, and prints the daemon's jail against that too.
// Usage: daemon_bench [--executor host|namespace] [--runs N] [--jobs N] [--capacity N]
//                     [--fetch-interval 50ms] [--runner PATH]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/bwrap_anchor.h"
#include "bench/process_cpu.h"
#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "runner/store/job_store.h"
#include "tests/support/fake_forge_server.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using nixjail::base::ChildProcess;
using Steady = std::chrono::steady_clock;

struct Options {
    std::string executor = "host";
    int runs = 30;
    int jobs = 200;
    int capacity = 8;
    std::string fetch_interval = "50ms";
    std::string runner = NIXJAIL_BINARY;
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "daemon_bench: %s\nusage: daemon_bench [--executor host|namespace] [--runs N] "
                 "[--jobs N] [--capacity N] [--fetch-interval 50ms] [--runner PATH]\n",
                 why.c_str());
    std::exit(2);
}

Options parseOptions(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) usage("option '" + a + "' needs a value");
        const std::string v = argv[++i];
        if (a == "--executor")
            o.executor = v;
        else if (a == "--runs")
            o.runs = std::stoi(v);
        else if (a == "--jobs")
            o.jobs = std::stoi(v);
        else if (a == "--capacity")
            o.capacity = std::stoi(v);
        else if (a == "--fetch-interval")
            o.fetch_interval = v;
        else if (a == "--runner")
            o.runner = v;
        else
            usage("unknown option '" + a + "'");
    }
    if (o.executor != "host" && o.executor != "namespace")
        usage("--executor is host or namespace, not '" + o.executor + "'");
    if (o.runs < 1 || o.jobs < 1 || o.capacity < 1)
        usage("--runs, --jobs, --capacity must be >= 1");
    return o;
}

// Seconds since the epoch on the realtime clock, which Python's time.time() also reads.
double wallNow() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// "2026-11-23T12:34:56.123456789Z" (what the runner sends as a step's startedAt) -> epoch seconds.
double parseTimestamp(const std::string& text) {
    std::tm tm{};
    const char* rest = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest) throw nixjail::base::Error("cannot parse the timestamp '" + text + "'");
    double fraction = 0;
    if (*rest == '.')
        fraction = std::stod("0" + std::string(rest).substr(0, std::string(rest).find('Z')));
    return static_cast<double>(::timegm(&tm)) + fraction;
}

struct Summary {
    double median = 0, p99 = 0;
};

Summary summarize(std::vector<double> v) {
    if (v.empty()) return {};
    std::sort(v.begin(), v.end());
    const size_t p99 = std::min(v.size() - 1, (v.size() * 99 + 99) / 100 - 1);
    return {v[v.size() / 2], v[p99]};
}

const std::vector<std::string> kBashTrue = {"bash", "-c", "true"};
// The jail's floor (namespace executor): `bash -c true` in exec_bench's bwrap anchor.
const std::vector<std::string> kBwrapTrue = nixjail::bench::bwrapAnchor("true");

// One run of `argv` (bash -c true, or the same in bwrap): its wall time in ms.
double runFloorCommand(const std::vector<std::string>& argv) {
    nixjail::base::UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    const auto start = Steady::now();
    auto child = ChildProcess::spawn({.argv = argv,
                                      .env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp"},
                                      .stdout_fd = devnull.get(),
                                      .stderr_fd = devnull.get()});
    if (child.wait().exitCode() != 0) throw nixjail::base::Error("'" + argv[0] + " ... true' failed");
    return std::chrono::duration<double, std::milli>(Steady::now() - start).count();
}

double runBashTrue() { return runFloorCommand(kBashTrue); }

// The floor for (b): `jobs` runs of bash -c true, `capacity` at a time, all queued at t0.
struct FloorQueue {
    double seconds = 0;
    std::vector<double> latency_ms;
};

void floorQueue(int jobs, int capacity, FloorQueue& out,
                const std::vector<std::string>& argv = kBashTrue) {
    std::atomic<int> next{0};
    std::mutex mutex;
    const auto t0 = Steady::now();
    std::vector<std::thread> workers;
    for (int w = 0; w < capacity; ++w) {
        workers.emplace_back([&] {
            while (next.fetch_add(1) < jobs) {
                runFloorCommand(argv);
                const double ms =
                    std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
                std::lock_guard lock(mutex);
                out.latency_ms.push_back(ms);
            }
        });
    }
    for (auto& t : workers) t.join();
    out.seconds = std::chrono::duration<double>(Steady::now() - t0).count();
}

int64_t vmHwmKb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
    throw nixjail::base::Error("no VmHWM in /proc/" + std::to_string(pid) + "/status");
}

// The daemon's database: when it recorded each task's first step as started (ms).
class StepStarts {
  public:
    explicit StepStarts(const fs::path& path) : store_(path) {
        for (const auto& job : store_.recentJobs(100000)) {
            auto steps = store_.steps(job.id);
            if (!steps.empty() && steps[0].started_at_ms)
                starts_[job.start.forge_task_id] = *steps[0].started_at_ms;
            if (job.ended_at_ms) ends_[job.start.forge_task_id] = *job.ended_at_ms;
            phases_[job.start.forge_task_id] = job.phase_ms;
        }
    }
    std::optional<int64_t> firstStepStartMs(int64_t task_id) const {
        auto it = starts_.find(task_id);
        return it == starts_.end() ? std::nullopt : std::optional<int64_t>(it->second);
    }
    // "phase median ms, ..." over these tasks, from the jobs' per-phase columns.
    std::string phaseMedians(const std::vector<int64_t>& task_ids) const {
        std::map<std::string, std::vector<double>> by_phase;
        for (int64_t id : task_ids)
            if (auto it = phases_.find(id); it != phases_.end())
                for (const auto& [phase, ms] : it->second) by_phase[phase].push_back(double(ms));
        std::string out;
        for (const auto& [phase, v] : by_phase)
            out +=
                (out.empty() ? "" : ", ") + phase + " " + std::to_string(int(summarize(v).median));
        return out;
    }
    std::optional<int64_t> jobEndMs(int64_t task_id) const {
        auto it = ends_.find(task_id);
        return it == ends_.end() ? std::nullopt : std::optional<int64_t>(it->second);
    }

  private:
    nixjail::runner::store::JobStore store_;
    std::map<int64_t, int64_t> starts_, ends_;
    std::map<int64_t, std::map<std::string, int64_t>> phases_;
};

class Bench {
  public:
    explicit Bench(Options o)
        : o_(std::move(o)), forge_(nixjail::tests::FakeForgeOptions{.persist = false}) {}
    Bench(const Bench&) = delete;
    Bench& operator=(const Bench&) = delete;
    // A bench that stops early (a failed job, a timeout) still lets the daemon clean up: its
    // running jobs' mounts, cgroups and directories go with a SIGTERM, not with the SIGKILL the
    // child's owner would send; that follows only if it has not exited within a minute.
    ~Bench() {
        if (!daemon_.running()) return;
        ::kill(daemon_.pid(), SIGTERM);
        try {
            for (int i = 0; i < 1200 && daemon_.running() && !daemon_.tryWait(); ++i) ::usleep(50 * 1000);
        } catch (const std::exception&) {
            // waiting failed: the owner's kill remains
        }
    }

    void startDaemon() {
        // The daemon refuses a state directory others cannot traverse when its jobs run as the
        // jail's unprivileged uid; TempDir makes it 0700.
        ::chmod(dir_.path().c_str(), 0755);
        run({o_.runner, "register", "--instance", forge_.url(), "--token",
             "0123456789abcdef0123456789abcdef01234567", "--name", "bench", "--labels", "nix",
             "--no-interactive", "--runner-file", (dir_.path() / ".runner").string()});
        std::string rest = "executor: {backend: host}\n";
        std::vector<std::string> env = baseEnv();
        if (o_.executor == "namespace") {
            rest = "executor: {backend: namespace}\nnix: {nixpkgs: " NIXJAIL_SOURCE_DIR
                   "/examples/nix}\nlabels:\n  nix: {packages: [bash, coreutils]}\n";
            env.push_back("NIX_CONFIG=sandbox = false\nsubstituters =");
        }
        nixjail::base::writeFile(
            dir_.path() / "config.yaml",
            "runner:\n  file: " + (dir_.path() / ".runner").string() + "\n  capacity: " +
                std::to_string(o_.capacity) + "\n  fetch_interval: " + o_.fetch_interval +
                "\n  shutdown_timeout: 10s\ndatabase: " + (dir_.path() / "jobs.sqlite").string() +
                "\n" + rest + "cache:\n  dir: " + (dir_.path() / "cache").string() +
                "\nmetrics: {address: \"\"}\nlog: {level: debug}\n");
        nixjail::base::writeFile(dir_.path() / "daemon.log", "");
        nixjail::base::UniqueFd log(
            ::open((dir_.path() / "daemon.log").c_str(), O_WRONLY | O_CLOEXEC));
        daemon_ = ChildProcess::spawn(
            {.argv = {o_.runner, "daemon", "--config", (dir_.path() / "config.yaml").string()},
             .env = env,
             .cwd = dir_.path(),
             .stdout_fd = log.get(),
             .stderr_fd = log.get()});
    }

    int stopDaemon() {
        ::kill(daemon_.pid(), SIGTERM);
        return daemon_.wait().exitCode();
    }
    pid_t daemonPid() const { return daemon_.pid(); }
    std::string daemonLog() { return nixjail::base::readFile(dir_.path() / "daemon.log"); }

    // Enqueues a job; returns its id and the bench's realtime clock when the forge had it queued.
    std::pair<int64_t, double> enqueue() {
        const int64_t id = forge_.enqueueJob(
            kJob, {"nix"}, {{"context", {{"repository", "bench/app"}, {"workflow", "ci.yml"}}}});
        return {id, wallNow()};
    }
    Json waitJob(int64_t id, double timeout_s) {
        // In slices, so a daemon that refused to start or died says why at once.
        Json task;
        for (double waited = 0;; waited += 1) {
            if (auto st = daemon_.tryWait())
                throw nixjail::base::Error("the daemon exited " + std::to_string(st->exitCode()) +
                                           " while job " + std::to_string(id) +
                                           " was queued; its log:\n" + daemonLog());
            try {
                task = forge_.waitJob(id, true, false, 1);
                break;
            } catch (const std::exception&) {
                if (waited + 1 >= timeout_s) throw;
            }
        }
        if (task.value("result", "") != "RESULT_SUCCESS")
            throw nixjail::base::Error("job " + std::to_string(id) + " ended " +
                                       task.value("result", "?") + "; daemon log:\n" + daemonLog());
        return task;
    }
    // The forge's view of a job's task, after it finished.
    Json taskOf(const Json& state, int64_t job_id) {
        for (const auto& j : state.at("jobs"))
            if (j.at("id") == job_id)
                return state.at("tasks").at(std::to_string(j.at("task_id").get<int64_t>()));
        throw nixjail::base::Error("job " + std::to_string(job_id) + " has no task");
    }
    Json state() { return forge_.state(); }
    fs::path database() const { return dir_.path() / "jobs.sqlite"; }

  private:
    static constexpr const char* kJob =
        "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: true\n";

    static std::vector<std::string> baseEnv() {
        return {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "NO_COLOR=1"};
    }
    void run(const std::vector<std::string>& argv) {
        nixjail::base::UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
        auto child = ChildProcess::spawn(
            {.argv = argv, .env = baseEnv(), .cwd = dir_.path(), .stdout_fd = devnull.get()});
        if (child.wait().exitCode() != 0) throw nixjail::base::Error("'" + argv[1] + "' failed");
    }

    Options o_;
    nixjail::tests::FakeForgeServer forge_;
    nixjail::base::TempDir dir_{"nixjail-daemon-bench-"};
    ChildProcess daemon_;
};

void printRow(const char* what, Summary ours, Summary floor) {
    std::printf("  %-34s %9.2f %9.2f   %9.2f %9.2f   %7.1fx %7.1fx\n", what, ours.median, ours.p99,
                floor.median, floor.p99, ours.median / floor.median, ours.p99 / floor.p99);
}

void warmOverhead(Bench& bench, int runs) {
    bench.waitJob(bench.enqueue().first, 120);  // warm-up: caches, first fetch
    std::vector<std::pair<int64_t, double>> jobs;
    std::vector<double> floor;
    for (int i = 0; i < runs; ++i) {
        jobs.push_back(bench.enqueue());
        bench.waitJob(jobs.back().first, 120);
        floor.push_back(runBashTrue());
    }
    const Json state = bench.state();
    std::vector<double> queued, toStep, dbToStep, stepRun, stopToEnded, endedToReport, stepToReport,
        total;
    StepStarts db(bench.database());
    std::vector<int64_t> task_ids;
    for (const auto& [id, enqueued] : jobs) {
        const Json task = bench.taskOf(state, id);
        const double fetched = task.at("started").get<double>();
        const double reported = task.at("last_update").get<double>();
        const Json& first = task.at("steps").at("0");
        const double step = parseTimestamp(first.at("startedAt").get<std::string>());
        const double stopped = parseTimestamp(first.at("stoppedAt").get<std::string>());
        stepRun.push_back((stopped - step) * 1000);
        if (auto ms = db.jobEndMs(task.at("id").get<int64_t>())) {
            stopToEnded.push_back(double(*ms) - stopped * 1000);
            endedToReport.push_back(reported * 1000 - double(*ms));
        }
        task_ids.push_back(task.at("id").get<int64_t>());
        if (auto ms = db.firstStepStartMs(task.at("id").get<int64_t>()))
            dbToStep.push_back(double(*ms) - fetched * 1000);
        queued.push_back((fetched - enqueued) * 1000);
        toStep.push_back((step - fetched) * 1000);
        stepToReport.push_back((reported - step) * 1000);
        total.push_back((reported - fetched) * 1000);
    }
    const Summary f = summarize(floor);
    std::printf("\n(a) warm job overhead, 1-step `run: true` job, %d runs one at a time (ms)\n",
                runs);
    std::printf("  %-34s %9s %9s   %9s %9s   %8s %8s\n", "", "median", "p99", "floor med",
                "floor p99", "ratio", "p99 ratio");
    printRow("fetched -> first step running", summarize(toStep), f);
    printRow("  same, step start from the database", summarize(dbToStep), f);
    printRow("first step running -> reported", summarize(stepToReport), f);
    printRow("  of which the step ran", summarize(stepRun), f);
    printRow("  of which step stopped -> job ended", summarize(stopToEnded), f);
    printRow("  of which job ended -> reported", summarize(endedToReport), f);
    printRow("fetched -> reported (overhead)", summarize(total), f);
    const Summary q = summarize(queued);
    std::printf("  (the daemon's phases, from its database, median ms: %s)\n",
                db.phaseMedians(task_ids).c_str());
    std::printf(
        "  (enqueued -> fetched, the poll wait, not part of the overhead: median %.1f ms, p99 %.1f "
        "ms)\n",
        q.median, q.p99);
}

void queuedJobs(Bench& bench, int count, int capacity, bool jailFloor) {
    std::vector<std::pair<int64_t, double>> jobs;
    const auto cpu0 = nixjail::bench::processCpu(bench.daemonPid());
    const double t0 = wallNow();
    for (int i = 0; i < count; ++i) jobs.push_back(bench.enqueue());
    for (const auto& j : jobs) bench.waitJob(j.first, 600);
    const auto cpu1 = nixjail::bench::processCpu(bench.daemonPid());
    const int64_t hwm = vmHwmKb(bench.daemonPid());
    const Json state = bench.state();
    std::map<std::string, int> calls;
    for (const auto& c : state.at("calls"))
        if (c.at("time").get<double>() >= t0) ++calls[c.at("procedure").get<std::string>()];
    std::vector<double> latency;
    double last = t0;
    for (const auto& [id, enqueued] : jobs) {
        const double reported = bench.taskOf(state, id).at("last_update").get<double>();
        latency.push_back((reported - enqueued) * 1000);
        last = std::max(last, reported);
    }
    const double seconds = last - t0;
    FloorQueue fq;
    floorQueue(count, capacity, fq);
    const Summary ours = summarize(latency), floor = summarize(fq.latency_ms);
    std::printf("\n(b) %d queued `run: true` jobs at capacity %d\n", count, capacity);
    std::printf("  %-34s %12s %12s %9s\n", "", "daemon", "floor", "ratio");
    std::printf("  %-34s %12.1f %12.1f %8.2fx\n", "throughput (jobs/s)", count / seconds,
                count / fq.seconds, (count / seconds) / (count / fq.seconds));
    std::printf("  %-34s %12.1f %12.1f %8.1fx\n", "latency median (ms)", ours.median, floor.median,
                ours.median / floor.median);
    std::printf("  %-34s %12.1f %12.1f %8.1fx\n", "latency p99 (ms)", ours.p99, floor.p99,
                ours.p99 / floor.p99);
    if (jailFloor && std::system("command -v bwrap >/dev/null 2>&1") != 0) {
        std::printf("  bwrap floor: skipped (bwrap is not installed: apt install bubblewrap)\n");
    } else if (jailFloor) {
        // The same jobs, each one bwrap call: what any namespace jail costs here, the daemon's
        // jail against it (the goal's floor above keeps no jail at all).
        FloorQueue bw;
        floorQueue(count, capacity, bw, kBwrapTrue);
        const Summary b = summarize(bw.latency_ms);
        std::printf("  %-34s %12s %12s %9s\n", "", "daemon", "bwrap floor", "ratio");
        std::printf("  %-34s %12.1f %12.1f %8.2fx\n", "throughput (jobs/s)", count / seconds,
                    count / bw.seconds, (count / seconds) / (count / bw.seconds));
        std::printf("  %-34s %12.1f %12.1f %8.1fx\n", "latency median (ms)", ours.median, b.median,
                    ours.median / b.median);
        std::printf("  (bwrap floor: `bash -c true` in one bwrap call per job, every namespace new,\n"
                    "   %d at a time; bash -c true floor / bwrap floor: %.2fx in throughput)\n",
                    capacity, (count / fq.seconds) / (count / bw.seconds));
    }
    std::printf("  %-34s %12.1f %12s\n", "daemon peak RSS (MiB)", double(hwm) / 1024, "-");
    std::printf(
        "  (VmHWM of the daemon process, its jobs not included; the floor keeps no process\n"
        "   alive between jobs, so there is nothing to compare it with)\n");
    std::printf("  daemon CPU per job (ms): %.2f its own, %.2f its reaped children (the jobs)\n",
                (cpu1.self_s - cpu0.self_s) * 1000 / count,
                (cpu1.children_s - cpu0.children_s) * 1000 / count);
    std::printf("  forge calls per job:");
    for (const auto& [procedure, n] : calls)
        std::printf(" %s %.2f", procedure.c_str(), double(n) / count);
    std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parseOptions(argc, argv);
    try {
        if (o.executor == "namespace" &&
            (::geteuid() != 0 || ::access("/usr/bin/nix-build", X_OK) != 0)) {
            std::fprintf(stderr, "daemon_bench: --executor namespace needs root and nix-build\n");
            return 2;
        }
        std::printf("daemon_bench: nixjail-runner daemon, %s executor, fake forge on loopback\n",
                    o.executor.c_str());
        std::printf(
            "peer: act_runner/forgejo-runner are not installable here; the floor is `bash -c "
            "true`\n"
            "spawned per job by this bench (no forge, no runner). Ratios are daemon / floor.\n"
            "clocks (all CLOCK_REALTIME on this host): enqueued = the bench, after the forge's\n"
            "/_admin/jobs answered; fetched = the forge, when FetchTask assigned the task;\n"
            "first step running / stopped = the daemon, the step's startedAt / stoppedAt it\n"
            "reported to the forge; job ended = the daemon's database, the job's ended_at_ms\n"
            "(written before the final report; its steps' started_at_ms are a cross-check);\n"
            "reported = the forge, when it received the final UpdateTask (task last_update).\n"
            "The forge is tests/support/fake_forge.py (Python): its share is in every figure.\n");
        Bench bench(o);
        bench.startDaemon();
        warmOverhead(bench, o.runs);
        queuedJobs(bench, o.jobs, o.capacity, o.executor == "namespace");
        const int rc = bench.stopDaemon();
        if (rc != 0) {
            std::fprintf(stderr, "daemon_bench: the daemon exited %d:\n%s\n", rc,
                         bench.daemonLog().c_str());
            return 1;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "daemon_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
