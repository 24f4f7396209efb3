// exec_bench: `nixjail-runner exec` of a 1-job, 1-step workflow against the same step run with
// `bash -c` directly. Alternates the two so both see the same machine state; prints the ratio.
// Usage: exec_bench [iterations=50]
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"

namespace {

using nixjail::base::ChildProcess;
using Clock = std::chrono::steady_clock;

double runOnce(const std::vector<std::string>& argv, const std::string& cwd) {
    nixjail::base::UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    const auto start = Clock::now();
    auto child = ChildProcess::spawn({.argv = argv,
                                      .env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "NO_COLOR=1"},
                                      .cwd = cwd,
                                      .stdout_fd = devnull.get(),
                                      .stderr_fd = devnull.get()});
    auto st = child.wait();
    if (st.exitCode() != 0) {
        std::fprintf(stderr, "exec_bench: '%s' exited %d\n", argv[0].c_str(), st.exitCode());
        std::exit(1);
    }
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Stats {
    double min, median, p95;
};

Stats stats(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {v.front(), v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 95 / 100)]};
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 50;
    nixjail::base::TempDir dir("nixjail-bench-");
    const std::string step = "echo hello from the step";
    nixjail::base::writeFile(dir.path() / "wf.yml",
                             "on: push\njobs:\n  one:\n    runs-on: nix\n    steps:\n      - run: " + step + "\n");
    const std::vector<std::string> exec{NIXJAIL_BINARY, "exec", "--executor", "host", "-W", "wf.yml"};
    const std::vector<std::string> bash{"bash", "-c", step};
    std::vector<double> tExec, tBash;
    runOnce(exec, dir.path());  // warm the page cache for both
    runOnce(bash, dir.path());
    for (int i = 0; i < n; ++i) {
        tExec.push_back(runOnce(exec, dir.path()));
        tBash.push_back(runOnce(bash, dir.path()));
    }
    const Stats e = stats(tExec), b = stats(tBash);
    std::printf("exec_bench: %d runs each, wall time in ms\n", n);
    std::printf("%-34s min %7.2f  median %7.2f  p95 %7.2f\n", "nixjail-runner exec (host executor)", e.min, e.median, e.p95);
    std::printf("%-34s min %7.2f  median %7.2f  p95 %7.2f\n", "bash -c (direct)", b.min, b.median, b.p95);
    std::printf("ratio exec/bash: median %.1fx, p95 %.1fx\n", e.median / b.median, e.p95 / b.p95);
    return 0;
}
