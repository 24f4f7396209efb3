// exec_bench: the whole `nixjail-runner exec` process for a 1-job, 1-step workflow, against its
// anchors, run alternately so that all see the same machine state; prints min/median/max and the
// ratios.
//
//   exec_bench [--runs N]                  host executor against `bash -c` of the step
//   exec_bench --jail [--runs N] [--max-ratio R]
//       (root) the namespace jail with a cached root (the project's examples/nix package set, one
//       warm-up run builds it) against one `bwrap` call and one `unshare` call running the same
//       step with every namespace new. With --max-ratio, exits 1 when the median exec/bwrap ratio
//       is above R: CI's regression check. Where a btrfs loop mount can be made, the same exec
//       with its cache on btrfs runs in the same rounds, and the job's root preparation and
//       cleanup (from --json-summary) are compared between the two filesystems.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bwrap_anchor.h"
#include "bench/sample_stats.h"
#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "tests/integration/btrfs_loop.h"

namespace {

using nixjail::base::ChildProcess;
using Clock = std::chrono::steady_clock;

const char* const kStep = "echo hello from the step";

double runOnce(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const std::string& cwd) {
    nixjail::base::UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    // Its stderr, for the error when it fails (an unlinked file: nothing to remove).
    nixjail::base::UniqueFd err(::open(cwd.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    const auto start = Clock::now();
    auto child = ChildProcess::spawn({.argv = argv,
                                      .env = env,
                                      .cwd = cwd,
                                      .stdout_fd = devnull.get(),
                                      .stderr_fd = err ? err.get() : devnull.get()});
    auto st = child.wait();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (st.exitCode() != 0) {
        std::string said;
        if (err) {
            char buf[4096];
            const ssize_t n = ::pread(err.get(), buf, sizeof buf, 0);
            if (n > 0) said.assign(buf, static_cast<size_t>(n));
        }
        // Thrown, not exit(): the bench's btrfs mount and directories are released on the way out.
        throw nixjail::base::Error("'" + argv[0] + "' exited " + std::to_string(st.exitCode()) +
                                   " in " + cwd + "; it said:\n" + said);
    }
    return ms;
}

using Stats = nixjail::bench::SampleStats;

Stats stats(std::vector<double> v) { return nixjail::bench::summarize(std::move(v)); }

void printRow(const char* name, const Stats& s) {
    std::printf("%-46s min %7.2f  median %7.2f  max %7.2f\n", name, s.min, s.median, s.max);
}

bool haveTool(const char* name) {
    const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

int hostBench(int n) {
    nixjail::base::TempDir dir("nixjail-bench-");
    nixjail::base::writeFile(dir.path() / "wf.yml", std::string("on: push\njobs:\n  one:\n    runs-on: nix\n    steps:\n      - run: ") + kStep + "\n");
    const std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "NO_COLOR=1"};
    const std::vector<std::string> exec{NIXJAIL_BINARY, "exec", "--executor", "host", "-W", "wf.yml"};
    const std::vector<std::string> bash{"bash", "-c", kStep};
    std::vector<double> tExec, tBash;
    runOnce(exec, env, dir.path());  // warm the page cache for both
    runOnce(bash, env, dir.path());
    for (int i = 0; i < n; ++i) {
        tExec.push_back(runOnce(exec, env, dir.path()));
        tBash.push_back(runOnce(bash, env, dir.path()));
    }
    const Stats e = stats(tExec), b = stats(tBash);
    std::printf("exec_bench: %d runs each, wall time in ms\n", n);
    printRow("nixjail-runner exec (host executor)", e);
    printRow("bash -c (direct)", b);
    std::printf("ratio exec/bash: median %.1fx\n", e.median / b.median);
    return 0;
}

int jailBench(int n, double max_ratio) {
    if (::geteuid() != 0) {
        std::fprintf(stderr, "exec_bench --jail: needs root (the namespace jail and the Nix store)\n");
        return 2;
    }
    nixjail::base::TempDir dir("nixjail-bench-");
    // Searchable by others like the default cache (/var/cache/nixjail-runner), so that the jails'
    // host ids reach the cached root and job directories (TempDir makes it 0700).
    ::chmod(dir.path().c_str(), 0755);
    const auto work = dir.path() / "repo";
    std::filesystem::create_directories(work);
    nixjail::base::writeFile(work / "wf.yml", std::string("on: push\njobs:\n  one:\n    runs-on: ubuntu-latest\n    steps:\n      - run: ") + kStep + "\n");
    // The quick start's package set: the host's binaries in the Nix store, no network needed.
    const std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir.path().string(),
                                          "NO_COLOR=1",
                                          "NIX_PATH=nixpkgs=" NIXJAIL_SOURCE_DIR "/examples/nix",
                                          "NIX_CONFIG=substituters =\nsandbox = false"};
    const std::vector<std::string> exec{NIXJAIL_BINARY, "exec", "--executor", "namespace", "--cache-dir",
                                        (dir.path() / "cache").string(), "-W", "wf.yml"};
    // The same isolation bwrap and unshare(1) give in one call: every namespace new, an
    // unprivileged id, the host's /usr read-only, fresh /proc, /dev and /tmp.
    const std::vector<std::string> bwrap = nixjail::bench::bwrapAnchor(kStep);
    const std::vector<std::string> unshare = {"unshare", "-m", "-u", "-i", "-n", "-p", "-f", "--mount-proc",
                                              "-r", "/bin/bash", "-c", kStep};
    if (!haveTool("bwrap") || !haveTool("unshare")) {
        std::fprintf(stderr, "exec_bench --jail: needs bwrap and unshare (apt install bubblewrap util-linux)\n");
        return 2;
    }
    // The same exec with its cache on btrfs, where one can be mounted here.
    std::unique_ptr<nixjail::testing::BtrfsLoopMount> btrfs;
    if (const auto why = nixjail::testing::BtrfsLoopMount::unavailableReason(); why.empty()) {
        btrfs = std::make_unique<nixjail::testing::BtrfsLoopMount>(2ull << 30);
        // Searchable by others as well, like the ext4 one above.
        for (const auto& p : {btrfs->mountPoint().parent_path(), btrfs->mountPoint()}) ::chmod(p.c_str(), 0755);
    } else {
        std::printf("btrfs: skipped (%s)\n", why.c_str());
    }
    auto execWith = [&](const std::filesystem::path& cache, const std::filesystem::path& summary) {
        auto argv = exec;
        argv[5] = cache.string();
        argv.insert(argv.end(), {"--json-summary", summary.string()});
        return argv;
    };
    // root_prepare + cleanup of the summary's one job, in ms.
    auto rootPhases = [](const std::filesystem::path& summary) {
        const auto j = nlohmann::json::parse(nixjail::base::readFile(summary));
        const auto& phases = j.at("workflows").at(0).at("jobs").at(0).at("phases");
        return phases.at("root_prepare").at("duration_ms").get<double>() +
               phases.at("cleanup").at("duration_ms").get<double>();
    };
    const auto summary = dir.path() / "summary.json";
    const auto cold = runOnce(exec, env, work);  // builds the root and remembers the closure
    if (btrfs) runOnce(execWith(btrfs->mountPoint() / "cache", summary), env, work);
    runOnce(bwrap, env, work);
    runOnce(unshare, env, work);
    std::vector<double> tExec, tBwrap, tUnshare, tBtrfs, rootExt4, rootBtrfs;
    for (int i = 0; i < n; ++i) {
        tExec.push_back(runOnce(execWith(dir.path() / "cache", summary), env, work));
        rootExt4.push_back(rootPhases(summary));
        if (btrfs) {
            tBtrfs.push_back(runOnce(execWith(btrfs->mountPoint() / "cache", summary), env, work));
            rootBtrfs.push_back(rootPhases(summary));
        }
        tBwrap.push_back(runOnce(bwrap, env, work));
        tUnshare.push_back(runOnce(unshare, env, work));
    }
    const Stats e = stats(tExec), b = stats(tBwrap), u = stats(tUnshare);
    std::printf("exec_bench --jail: %d runs each, interleaved, wall time in ms (first, cold: %.1f)\n", n, cold);
    printRow("nixjail-runner exec, 1 step, cached root", e);
    if (btrfs) printRow("  the same, cache on btrfs", stats(tBtrfs));
    printRow("bwrap --unshare-all ... bash -c (one call)", b);
    printRow("unshare -muinpf --mount-proc -r bash -c", u);
    const double ratio = e.median / b.median;
    std::printf("ratio exec/bwrap: median %.1fx (min %.1fx); exec/unshare: median %.1fx\n", ratio,
                e.min / b.min, e.median / u.median);
    if (btrfs) {
        const Stats r4 = stats(rootExt4), rb = stats(rootBtrfs);
        std::printf("the job's root, prepared and removed (root_prepare + cleanup, ms):\n");
        printRow("  cache on ext4 (this machine's disk)", r4);
        printRow("  cache on btrfs (a loop device)", rb);
        if (r4.median >= 1 && rb.median >= 1)
            std::printf("  ratio ext4/btrfs: median %.2fx\n", r4.median / rb.median);
        else
            std::printf("  ratio ext4/btrfs: n/a (a median below the summaries' 1 ms resolution)\n");
    }
    if (max_ratio > 0 && ratio > max_ratio) {
        std::printf("REGRESSION: exec/bwrap %.1fx is above the allowed %.1fx\n", ratio, max_ratio);
        return 1;
    }
    if (max_ratio > 0) std::printf("within the allowed %.1fx\n", max_ratio);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 0;
    bool jail = false;
    double max_ratio = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--jail") {
            jail = true;
        } else if (a == "--runs" && i + 1 < argc) {
            runs = std::atoi(argv[++i]);
        } else if (a == "--max-ratio" && i + 1 < argc) {
            max_ratio = std::atof(argv[++i]);
        } else if (std::isdigit(static_cast<unsigned char>(a[0]))) {
            runs = std::atoi(a.c_str());  // the old positional form
        } else {
            std::fprintf(stderr, "usage: exec_bench [--jail [--max-ratio R]] [--runs N]\n");
            return 2;
        }
    }
    if (runs <= 0) runs = jail ? 30 : 50;
    try {
        return jail ? jailBench(runs, max_ratio) : hostBench(runs);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "exec_bench: %s\n", e.what());
        return 1;
    }
}
