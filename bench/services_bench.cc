// services_bench: a job's `services:` (postgres:15 and redis:7 as jailed Nix services) against the
// same job without them, and against the same binaries started bare on the host, side by side in
// one run; prints medians and the ratios, and a clearly labelled figure from the literature for
// `docker run`, which is not measured here.
//
//   services_bench [--runs N]     (root; Nix; the fixture packages in /opt/nixjail-services)
//
// Per round, interleaved so that all see the same machine state:
//   (a) `nixjail-runner exec` of a 1-step job (`true`) with services postgres:15 and redis:7, warm
//       cache: wall time, and from --json-summary the services_start phase and each service's
//       time from its start script to ready;
//   (b) the same job without `services:`: wall time (a - b is what the services cost the job);
//   (c) the same postgres and redis binaries (the fixture store paths) on the host, no jail, as
//       nobody: the start script's steps (initdb, then postgres) and redis-server, started
//       together and polled with the readiness commands the runner uses, each in turn with 100 ms
//       between rounds as the runner does, and (c') every 10 ms (the floor; its polling also
//       takes CPU from initdb on a small machine).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/sample_stats.h"
#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::ChildProcess;
using nixjail::base::UniqueFd;
using Clock = std::chrono::steady_clock;
using Stats = nixjail::bench::SampleStats;

using namespace std::chrono_literals;

const fs::path kSource = NIXJAIL_SOURCE_DIR;
const char* const kNixConfig = "NIX_CONFIG=sandbox = false\nsubstituters =";

// Why this benchmark cannot run here, or empty.
std::string missingPrerequisite() {
    if (::geteuid() != 0)
        return "needs root (the namespace jail, the Nix store, postgres run as nobody)";
    if (::access("/usr/bin/nix-build", X_OK) != 0) return "needs nix-build (apt install nix-bin)";
    if (!fs::exists("/opt/nixjail-services/.complete")) {
        return "needs the Postgres and Redis binaries in /opt/nixjail-services (run "
               ".ci/install-deps as root)";
    }
    if (::access("/usr/bin/setpriv", X_OK) != 0)
        return "needs setpriv (util-linux) to run postgres as nobody";
    if (!::getpwnam("nobody")) return "needs the user 'nobody' (postgres refuses to run as root)";
    return {};
}

std::string tailOf(const fs::path& file, std::size_t bytes = 3000) {
    std::string text;
    try {
        text = nixjail::base::readFile(file);
    } catch (const std::exception&) {
        return "";
    }
    return text.size() > bytes ? "..." + text.substr(text.size() - bytes) : text;
}

// Runs argv to its end with its output in `log`; exits the benchmark with that output when it
// fails.
double runOnce(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const fs::path& cwd, const fs::path& log) {
    UniqueFd out(::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    const auto start = Clock::now();
    auto child = ChildProcess::spawn(
        {.argv = argv, .env = env, .cwd = cwd, .stdout_fd = out.get(), .stderr_fd = out.get()});
    const auto st = child.wait();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (st.exitCode() != 0) {
        std::fprintf(stderr, "services_bench: '%s %s' exited %d in %s; its output:\n%s\n",
                     argv[0].c_str(), argv.size() > 1 ? argv[1].c_str() : "", st.exitCode(),
                     cwd.c_str(), tailOf(log).c_str());
        std::exit(1);
    }
    return ms;
}

// Exit code of `bash -c cmd`, its output discarded.
int check(const std::string& cmd, const std::vector<std::string>& env) {
    UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    auto child = ChildProcess::spawn({.argv = {"/bin/bash", "-c", cmd},
                                      .env = env,
                                      .stdout_fd = devnull.get(),
                                      .stderr_fd = devnull.get()});
    return child.wait().exitCode();
}

// A TCP port on 127.0.0.1 that nothing listens on now.
int freePort() {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        std::perror("services_bench: finding a free port");
        std::exit(1);
    }
    return ntohs(a.sin_port);
}

// Stops a server as its own shutdown does (`sig` to the process only), then the rest of its group.
void stopServer(ChildProcess& p, int sig) {
    if (!p.running()) return;
    ::kill(p.pid(), sig);
    pollfd pfd{p.pidfd(), POLLIN, 0};
    if (::poll(&pfd, 1, 15000) <= 0)
        std::fprintf(stderr, "services_bench: pid %d ignored signal %d\n", p.pid(), sig);
    p.killTree(SIGKILL);  // what is left of its process group, if anything
    p.wait();
}

struct BareTimes {
    double postgres = 0, redis = 0, both = 0;
};

// (c): the fixture binaries on the host, as nobody, in a fresh directory; started together, each
// polled until it answers as the runner's readiness commands require, `pause` between rounds.
BareTimes bareRun(const fs::path& dir, const fs::path& pg, const fs::path& redis,
                  std::chrono::milliseconds pause) {
    fs::create_directories(dir);
    if (::chown(dir.c_str(), 65534, 65534) != 0) {
        std::perror("services_bench: chown nobody");
        std::exit(1);
    }
    const int pgPort = freePort();
    int redisPort = freePort();
    while (redisPort == pgPort) redisPort = freePort();
    const std::string path =
        "PATH=" + (pg / "bin").string() + ":" + (redis / "bin").string() + ":/usr/bin:/bin";
    const std::vector<std::string> env = {path,
                                          "HOME=" + dir.string(),
                                          "LC_ALL=C",
                                          "D=" + dir.string(),
                                          "PORT=" + std::to_string(pgPort),
                                          "POSTGRES_PASSWORD=bench-only"};
    // The built-in postgres start script's steps for POSTGRES_PASSWORD alone, on the host's paths
    // and on the loopback only.
    const std::string pgScript = R"SH(set -eu
mkdir -p "$D/run"
printf '%s\n' "$POSTGRES_PASSWORD" > "$D/.pwfile"
initdb -D "$D/data" -U postgres --pwfile="$D/.pwfile" --auth-local=trust --auth-host=scram-sha-256 --no-locale -E UTF8 > "$D/initdb.log"
rm -f "$D/.pwfile"
exec postgres -D "$D/data" -k "$D/run" -c listen_addresses=127.0.0.1 -c port="$PORT"
)SH";
    const std::string redisCmd =
        "exec redis-server --port " + std::to_string(redisPort) +
        " --bind 127.0.0.1 --protected-mode no --dir \"$D\" --save '' --appendonly no";
    const std::vector<std::string> asNobody = {"/usr/bin/setpriv",
                                               "--reuid=65534",
                                               "--regid=65534",
                                               "--clear-groups",
                                               "--",
                                               "/bin/bash",
                                               "-c"};
    const std::string pgReady =
        "pg_isready -q -h 127.0.0.1 -p " + std::to_string(pgPort) + " -U postgres -d postgres";
    const std::string redisReady = "[ \"$(redis-cli -h 127.0.0.1 -p " + std::to_string(redisPort) +
                                   " ping 2>/dev/null)\" = PONG ]";

    UniqueFd pgLog(::open((dir.parent_path() / (dir.filename().string() + "-postgres.log")).c_str(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    UniqueFd redisLog(::open((dir.parent_path() / (dir.filename().string() + "-redis.log")).c_str(),
                             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    auto argv = [&](const std::string& script) {
        auto a = asNobody;
        a.push_back(script);
        return a;
    };
    const auto start = Clock::now();
    auto pgProc = ChildProcess::spawn({.argv = argv(pgScript),
                                       .env = env,
                                       .cwd = dir,
                                       .stdout_fd = pgLog.get(),
                                       .stderr_fd = pgLog.get()});
    auto redisProc = ChildProcess::spawn({.argv = argv(redisCmd),
                                          .env = env,
                                          .cwd = dir,
                                          .stdout_fd = redisLog.get(),
                                          .stderr_fd = redisLog.get()});
    std::optional<double> pgAt, redisAt;
    auto since = [&] {
        return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    };
    while (!pgAt || !redisAt) {
        if (!pgAt && check(pgReady, env) == 0) pgAt = since();
        if (!redisAt && check(redisReady, env) == 0) redisAt = since();
        const bool died = (!pgAt && pgProc.tryWait()) || (!redisAt && redisProc.tryWait());
        if (died || since() > 120000) {
            std::fprintf(stderr, "services_bench: the bare %s %s; see %s\n",
                         !pgAt ? "postgres" : "redis-server",
                         died ? "exited before it was ready" : "was not ready after 2 min",
                         dir.parent_path().c_str());
            stopServer(pgProc, SIGINT);
            stopServer(redisProc, SIGTERM);
            std::exit(1);
        }
        if (!pgAt || !redisAt) std::this_thread::sleep_for(pause);
    }
    BareTimes t{*pgAt, *redisAt, since()};
    t.both = std::max(t.postgres, t.redis);
    stopServer(pgProc, SIGINT);  // postgres's fast shutdown: removes its shared memory
    stopServer(redisProc, SIGTERM);
    return t;
}

struct Phase {
    double duration = 0, postgres = 0, redis = 0;
};

Phase servicesPhase(const fs::path& summary) {
    const auto j = nlohmann::json::parse(nixjail::base::readFile(summary));
    const auto& p = j.at("workflows").at(0).at("jobs").at(0).at("phases").at("services_start");
    return {p.at("duration_ms").get<double>(), p.at("postgres_ready_ms").get<double>(),
            p.at("redis_ready_ms").get<double>()};
}

// The fixture's postgresql_15 and redis store paths, built as the tests build them.
std::vector<fs::path> buildFixtures(const fs::path& log) {
    const std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp",
                                          kNixConfig};
    runOnce({"/usr/bin/nix-build", (kSource / "tests/fixtures/nix").string(), "-A", "postgresql_15",
             "-A", "redis", "--no-out-link"},
            env, kSource, log);
    std::vector<fs::path> out;
    std::istringstream lines(nixjail::base::readFile(log));
    for (std::string l; std::getline(lines, l);) {
        if (l.rfind("/nix/store/", 0) == 0) out.emplace_back(l);
    }
    if (out.size() != 2) {
        std::fprintf(stderr, "services_bench: nix-build gave %zu store paths, not 2:\n%s\n",
                     out.size(), tailOf(log).c_str());
        std::exit(1);
    }
    return out;
}

// What this run left: processes whose root, working directory or command line is under `dir`, and
// mounts under it.
std::vector<std::string> leftovers(const fs::path& dir) {
    std::vector<std::string> out;
    const std::string prefix = dir.string();
    for (const auto& e : fs::directory_iterator("/proc")) {
        const std::string pid = e.path().filename();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::error_code ec;
        std::string comm;
        std::ifstream(e.path() / "comm") >> comm;
        std::ifstream cmdFile(e.path() / "cmdline");
        std::string cmd((std::istreambuf_iterator<char>(cmdFile)),
                        std::istreambuf_iterator<char>());
        for (auto& c : cmd) c = c ? c : ' ';
        const std::string root = fs::read_symlink(e.path() / "root", ec).string();
        const std::string cwd = fs::read_symlink(e.path() / "cwd", ec).string();
        if (root.rfind(prefix, 0) == 0 || cwd.rfind(prefix, 0) == 0 ||
            cmd.find(prefix) != std::string::npos) {
            out.push_back("process " + pid + " (" + comm + ")");
        }
    }
    std::ifstream mounts("/proc/self/mountinfo");
    for (std::string line; std::getline(mounts, line);) {
        if (line.find(" " + prefix) != std::string::npos) out.push_back("mount: " + line);
    }
    return out;
}

// postgres and redis-server processes on the machine, by pid.
std::map<int, std::string> servers() {
    std::map<int, std::string> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
        const std::string pid = e.path().filename();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string comm;
        std::ifstream(e.path() / "comm") >> comm;
        if (comm == "postgres" || comm == "redis-server") out.emplace(std::stoi(pid), comm);
    }
    return out;
}

void printRow(const char* name, const Stats& s) {
    std::printf("%-58s min %8.1f  median %8.1f  max %8.1f\n", name, s.min, s.median, s.max);
}

Stats stats(std::vector<double> v) { return nixjail::bench::summarize(std::move(v)); }

const char* const kWithServices = R"Y(on: push
jobs:
  bench:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils
    services:
      postgres:
        image: postgres:15
        env:
          POSTGRES_PASSWORD: bench-only
      redis:
        image: redis:7
    steps:
      - run: "true"
)Y";

const char* const kWithout = R"Y(on: push
jobs:
  bench:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils
    steps:
      - run: "true"
)Y";

int run(int n) {
    if (const auto why = missingPrerequisite(); !why.empty()) {
        std::fprintf(stderr, "services_bench: not run: %s\n", why.c_str());
        return 2;
    }
    std::vector<double> tWith, tWithout, tPhase, tPgJail, tRedisJail, tPgBare, tRedisBare,
        tBothBare, tPgFast, tRedisFast;
    std::vector<std::string> left;
    fs::path kept, made;
    const auto serversBefore = servers();
    {
        nixjail::base::TempDir dir("nixjail-services-bench-");
        // The jails' host ids and nobody must traverse it (not list it).
        fs::permissions(dir.path(),
                        fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        const auto repo = dir.path() / "repo", tmp = dir.path() / "tmp", logs = dir.path() / "logs";
        for (const auto& d : {repo, tmp, logs}) fs::create_directories(d);
        fs::permissions(tmp, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        nixjail::base::writeFile(repo / "services.yml", kWithServices);
        nixjail::base::writeFile(repo / "plain.yml", kWithout);
        const auto fixtures = buildFixtures(logs / "nix-build.log");

        // The job directories go to $TMPDIR: under this run's directory, so that what it leaves is
        // seen.
        const std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin",
                                              "HOME=" + dir.path().string(), "NO_COLOR=1",
                                              "TMPDIR=" + tmp.string(), kNixConfig};
        const auto summary = dir.path() / "summary.json";
        auto exec = [&](const char* workflow) {
            return std::vector<std::string>{NIXJAIL_BINARY,
                                            "exec",
                                            "-W",
                                            workflow,
                                            "--executor",
                                            "namespace",
                                            "--nixpkgs",
                                            (kSource / "examples/nix").string(),
                                            "--cache-dir",
                                            (dir.path() / "cache").string(),
                                            "--no-color",
                                            "--json-summary",
                                            summary.string()};
        };
        const auto execLog = logs / "exec.log";
        // Warm-up: builds and caches the roots (the job's and each service's), fills the page
        // cache.
        const double coldWith = runOnce(exec("services.yml"), env, repo, execLog);
        const double coldWithout = runOnce(exec("plain.yml"), env, repo, execLog);
        bareRun(dir.path() / "bare-warmup", fixtures[0], fixtures[1], 100ms);
        for (int i = 0; i < n; ++i) {
            tWith.push_back(runOnce(exec("services.yml"), env, repo, execLog));
            const Phase p = servicesPhase(summary);
            tPhase.push_back(p.duration);
            tPgJail.push_back(p.postgres);
            tRedisJail.push_back(p.redis);
            tWithout.push_back(runOnce(exec("plain.yml"), env, repo, execLog));
            const BareTimes b = bareRun(dir.path() / ("bare-" + std::to_string(i)), fixtures[0],
                                        fixtures[1], 100ms);
            tPgBare.push_back(b.postgres);
            tRedisBare.push_back(b.redis);
            tBothBare.push_back(b.both);
            const BareTimes f =
                bareRun(dir.path() / ("fast-" + std::to_string(i)), fixtures[0], fixtures[1], 10ms);
            tPgFast.push_back(f.postgres);
            tRedisFast.push_back(f.redis);
        }
        std::printf(
            "services_bench: %d runs each, interleaved, medians in ms (warm-up: with services "
            "%.0f, "
            "without %.0f)\n",
            n, coldWith, coldWithout);
        std::printf("postgres %s, redis %s\n", fixtures[0].c_str(), fixtures[1].c_str());
        left = leftovers(dir.path());
        made = dir.path();
        if (!left.empty()) {
            dir.keep();
            kept = dir.path();
        }
    }
    if (kept.empty() && fs::exists(made))
        left.push_back("directory " + made.string() + " (could not be removed)");
    const Stats with = stats(tWith), without = stats(tWithout), phase = stats(tPhase),
                pgJ = stats(tPgJail), rJ = stats(tRedisJail), pgB = stats(tPgBare),
                rB = stats(tRedisBare), bothB = stats(tBothBare), pgF = stats(tPgFast),
                rF = stats(tRedisFast);
    printRow("(a) exec, 1 step, services postgres:15 + redis:7 (wall)", with);
    printRow("    services_start phase (roots, jails, both ready)", phase);
    printRow("    postgres: start script to ready (jailed)", pgJ);
    printRow("    redis: start script to ready (jailed)", rJ);
    printRow("(b) exec, 1 step, no services (wall)", without);
    std::printf(
        "    services' cost to the job, a - b (medians): %.1f ms; the job without them: %.1f ms\n",
        with.median - without.median, without.median);
    printRow("(c) bare on the host: postgres (initdb + start) ready", pgB);
    printRow("    bare: redis-server ready", rB);
    printRow("    bare: both ready (started together)", bothB);
    printRow("(c') bare, polled every 10 ms: postgres ready", pgF);
    printRow("    bare, polled every 10 ms: redis-server ready", rF);
    std::printf(
        "ratio jailed/bare, time to ready (medians), both polled each 100 ms: postgres %.2fx, "
        "redis %.2fx; "
        "services_start/both-bare %.2fx\n",
        pgJ.median / pgB.median, rJ.median / rB.median, phase.median / bothB.median);
    std::printf("ratio jailed/bare polled every 10 ms (medians): postgres %.2fx, redis %.2fx\n",
                pgJ.median / pgF.median, rJ.median / rF.median);
    std::printf(
        "NOT MEASURED, from the literature (Docker is not available here):\n"
        "  docker postgres: 'Startup time: ~1 second (vs 3-5 seconds for standard container)' for "
        "a\n"
        "    PostgreSQL image whose cluster is made at build time -- "
        "https://github.com/Code-Growers/fast_test_containers\n"
        "  docker redis: Testcontainers 1.17.2, 'Redis up and running ... from the test's start to "
        "an instance\n"
        "    ready to be connected': 1.7 s (2.4 s in 1.17.1), of which 928 ms initialise "
        "Testcontainers\n"
        "    -- https://github.com/testcontainers/testcontainers-java/releases/tag/1.17.2\n"
        "  GitHub Actions service containers: the runner looks at their health at about +2, +6, "
        "+14, +30 s, so\n"
        "    with the documented --health-interval 10s postgres is never ready before +14 s\n"
        "    -- https://github.com/github/docs/pull/43243 (from "
        "https://github.com/actions/runner/issues/496)\n");
    // Not counted as this run's: another job on this machine may run its own services now.
    for (const auto& [pid, name] : servers()) {
        if (!serversBefore.count(pid))
            std::printf("note: a %s (pid %d) runs that did not at the start\n", name.c_str(), pid);
    }
    if (!left.empty()) {
        std::printf("LEFT BEHIND (kept in %s):\n", kept.c_str());
        for (const auto& l : left) std::printf("  %s\n", l.c_str());
        return 1;
    }
    std::printf("left behind: nothing (no process, mount or directory of this run)\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 5;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--runs" && i + 1 < argc) {
            runs = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr,
                         "usage: services_bench [--runs N]   (root, Nix, /opt/nixjail-services)\n");
            return 2;
        }
    }
    if (runs <= 0) {
        std::fprintf(stderr, "services_bench: --runs must be at least 1\n");
        return 2;
    }
    return run(runs);
}
