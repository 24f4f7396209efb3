// jail_bench: spawn latency of `/bin/true` in our namespace jail against bubblewrap and unshare(1)
// with equivalent isolation, interleaved so all three see the same machine state; then network
// namespace setup/teardown: netns + veth pair through ip(8), and a bare netns (the proxy-in-netns
// design) through unshare(2); and a job's disk-quota volume against a tmpfs of the same size.
// Needs root; prints why and exits 0 otherwise.
// Usage: jail_bench [spawn_runs=500] [netns_runs=100]
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/sample_stats.h"
#include "executor/namespace/namespace_executor.h"
#include "executor/namespace/seccomp_filter.h"
#include "executor/namespace/test_root.h"
#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "workspace-cache/job_volume.h"

namespace {

namespace ex = nixjail::executor;
using nixjail::base::ChildProcess;
using nixjail::base::UniqueFd;
using Clock = std::chrono::steady_clock;

using Stats = nixjail::bench::SampleStats;
using nixjail::bench::timeMs;

Stats stats(std::vector<double> v) { return nixjail::bench::summarize(std::move(v)); }

void printRow(const char* name, const Stats& s, const Stats* base) {
    std::printf("%-34s %8.2f %8.2f %8.2f %8.2f %8.2f", name, s.min, s.median, s.p95, s.p99, s.mean);
    if (base) std::printf("   x%.2f", s.median / base->median);
    std::printf("\n");
}

void printHeader(const char* title, int runs, const char* ratio) {
    std::printf("\n%s (%d runs, ms)\n%-34s %8s %8s %8s %8s %8s   %s\n", title, runs, "", "min",
                "median", "p95", "p99", "mean", ratio);
}

void runTool(const std::vector<std::string>& argv) {
    UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    auto child = ChildProcess::spawn({.argv = argv,
                                      .env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
                                      .stdout_fd = devnull.get(),
                                      .stderr_fd = devnull.get()});
    auto st = child.wait();
    if (st.exitCode() != 0) {
        std::string cmd;
        for (const auto& a : argv) cmd += a + " ";
        throw nixjail::base::Error("'" + cmd + "' exited " + std::to_string(st.exitCode()));
    }
}

bool haveTool(const char* name) {
    for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"}) {
        if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return true;
    }
    return false;
}

// Our default seccomp filter as raw BPF in a memfd, for bwrap --seccomp (rewound before each run).
UniqueFd seccompMemfd() {
    auto program =
        ex::ns::compileSeccompFilter(ex::ns::planSeccompRules(ex::HardeningProfile::kDefault));
    UniqueFd fd(::memfd_create("jail-bench-seccomp", 0));  // inherited by bwrap on purpose
    if (!fd) throw nixjail::base::SysError("memfd_create");
    auto bytes = program.code.size() * sizeof(program.code[0]);
    if (::write(fd.get(), program.code.data(), bytes) != ssize_t(bytes))
        throw nixjail::base::SysError("writing the seccomp program");
    return fd;
}

void spawnBench(int runs) {
    ex::NamespaceExecutor executor;
    ex::testing::TestRoot root(executor);
    const auto spec = root.spec("jail-bench");
    ex::StepInvocation step;
    step.argv = {"/bin/true"};
    step.env = {"PATH=/usr/bin:/bin"};
    step.cwd = "/";
    auto jail = executor.prepare(spec);

    auto seccomp = seccompMemfd();
    // The same view as our jail: host /usr read-only (Debian's /bin, /lib are symlinks into it),
    // a private /tmp, minimal /dev and /proc, every namespace new, an unprivileged id, no caps.
    std::vector<std::string> bwrap = {"bwrap",
                                      "--unshare-all",
                                      "--unshare-user",
                                      "--uid",
                                      "1000",
                                      "--gid",
                                      "1000",
                                      "--die-with-parent",
                                      "--new-session",
                                      "--ro-bind",
                                      "/usr",
                                      "/usr",
                                      "--symlink",
                                      "usr/bin",
                                      "/bin",
                                      "--symlink",
                                      "usr/lib",
                                      "/lib",
                                      "--symlink",
                                      "usr/lib64",
                                      "/lib64",
                                      "--proc",
                                      "/proc",
                                      "--dev",
                                      "/dev",
                                      "--tmpfs",
                                      "/tmp",
                                      "--cap-drop",
                                      "ALL",
                                      "--seccomp",
                                      std::to_string(seccomp.get()),
                                      "/bin/true"};
    const std::vector<std::string> unshare = {"unshare", "-m", "-u",           "-i", "-n",
                                              "-p",      "-f", "--mount-proc", "-r", "/bin/true"};
    const bool haveBwrap = haveTool("bwrap"), haveUnshare = haveTool("unshare");

    std::vector<double> tStep, tJob, tBwrap, tUnshare;
    auto runStep = [&](ex::Jail& j) {
        auto r = j.run(step);
        if (r.exit_code != 0) {
            throw nixjail::base::Error("namespace jail: /bin/true exited " +
                                       std::to_string(r.exit_code) + " " + r.setup_error);
        }
    };
    auto runBwrap = [&] {
        ::lseek(seccomp.get(), 0, SEEK_SET);
        runTool(bwrap);
    };
    // Warm-up: page cache, cgroup hierarchy, the dynamic loader's caches.
    runStep(*jail);
    if (haveBwrap) runBwrap();
    if (haveUnshare) runTool(unshare);
    for (int i = 0; i < runs; ++i) {
        tStep.push_back(timeMs([&] { runStep(*jail); }));
        tJob.push_back(timeMs([&] {
            auto j = executor.prepare(spec);
            runStep(*j);
        }));
        if (haveBwrap) tBwrap.push_back(timeMs(runBwrap));
        if (haveUnshare) tUnshare.push_back(timeMs([&] { runTool(unshare); }));
    }
    printHeader("jail spawn latency of /bin/true", runs, "median vs ours (step)");
    auto ours = stats(tStep);
    printRow("nixjail namespace: step", ours, nullptr);
    auto job = stats(tJob);
    printRow("nixjail namespace: prepare+step", job, &ours);
    if (haveBwrap) {
        auto b = stats(tBwrap);
        printRow("bwrap (same isolation + seccomp)", b, &ours);
    } else {
        std::printf("bwrap: skipped, not installed\n");
    }
    if (haveUnshare) {
        auto u = stats(tUnshare);
        printRow("unshare -muinpf --mount-proc -r", u, &ours);
    } else {
        std::printf("unshare: skipped, not installed\n");
    }
}

bool linkExists(const char* name) { return ::if_nametoindex(name) != 0; }

void netnsBench(int runs) {
    const std::string ns = "njbench-" + std::to_string(::getpid());
    const char* hostIf = "njbench-h";
    const char* jailIf = "njbench-j";
    auto cleanup = [&] {
        try {
            runTool({"ip", "netns", "del", ns});
        } catch (const nixjail::base::Error&) {
            // Not there: nothing to clean up.
        }
        if (linkExists(hostIf)) runTool({"ip", "link", "del", hostIf});
    };
    cleanup();
    std::vector<double> tSetup, tTeardown, tBare;
    for (int i = 0; i < runs; ++i) {
        tSetup.push_back(timeMs([&] {
            runTool({"ip", "netns", "add", ns});
            runTool(
                {"ip", "link", "add", hostIf, "type", "veth", "peer", "name", jailIf, "netns", ns});
            runTool({"ip", "addr", "add", "10.231.0.1/30", "dev", hostIf});
            runTool({"ip", "link", "set", hostIf, "up"});
            runTool({"ip", "-n", ns, "addr", "add", "10.231.0.2/30", "dev", jailIf});
            runTool({"ip", "-n", ns, "link", "set", jailIf, "up"});
            runTool({"ip", "-n", ns, "link", "set", "lo", "up"});
        }));
        tTeardown.push_back(timeMs([&] {
            runTool({"ip", "netns", "del", ns});
            // The host end goes when the kernel destroys the namespace (asynchronously).
            while (linkExists(hostIf)) std::this_thread::yield();
        }));
        tBare.push_back(timeMs([&] {
            // What the proxy-in-netns design needs: a new netns held by an fd, nothing else.
            UniqueFd fd;
            std::thread([&fd] {
                if (::unshare(CLONE_NEWNET) == 0)
                    fd.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
            }).join();
            if (!fd) throw nixjail::base::SysError("unshare(CLONE_NEWNET)");
        }));
    }
    cleanup();
    printHeader("job network namespace", runs, "median vs veth setup");
    auto setup = stats(tSetup);
    printRow("netns+veth setup (7 x ip(8))", setup, nullptr);
    printRow("netns+veth teardown (until gone)", stats(tTeardown), &setup);
    printRow("bare netns via unshare(2) + close", stats(tBare), &setup);
}

// A job's disk quota: a sparse 10 GiB ext4 image on a loop device (JobVolume), made and removed,
// against the other size-bounded place a job could write to, a tmpfs of the same size (which
// costs memory, not disk).
void volumeBench(int runs) {
    const std::string why = nixjail::cache::JobVolume::unavailableReason();
    if (!why.empty()) {
        std::printf("\njob volume: skipped: %s\n", why.c_str());
        return;
    }
    nixjail::base::TempDir dir("nixjail-bench-volume-");
    const auto image = dir.path() / "volume.img", mnt = dir.path() / "volume";
    constexpr std::uint64_t kSize = 10ull << 30;
    std::vector<double> tMake, tGone, tTmpfs;
    for (int i = 0; i < runs; ++i) {
        std::unique_ptr<nixjail::cache::JobVolume> volume;
        tMake.push_back(timeMs(
            [&] { volume = std::make_unique<nixjail::cache::JobVolume>(image, mnt, kSize); }));
        tGone.push_back(timeMs([&] { volume.reset(); }));
        tTmpfs.push_back(timeMs([&] {
            std::filesystem::create_directory(mnt);
            if (::mount("tmpfs", mnt.c_str(), "tmpfs", MS_NODEV | MS_NOSUID, "size=10g") != 0)
                throw nixjail::base::SysError("mount tmpfs");
            ::umount2(mnt.c_str(), 0);
            std::filesystem::remove(mnt);
        }));
    }
    printHeader("job disk quota, 10 GiB", runs, "median vs tmpfs");
    auto tmpfs = stats(tTmpfs);
    printRow("ext4 volume: mkfs + loop + mount", stats(tMake), &tmpfs);
    printRow("ext4 volume: umount + detach + rm", stats(tGone), &tmpfs);
    printRow("tmpfs size=10g: mount + umount", tmpfs, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
    const int spawnRuns = argc > 1 ? std::atoi(argv[1]) : 500;
    const int netnsRuns = argc > 2 ? std::atoi(argv[2]) : 100;
    if (::geteuid() != 0) {
        std::printf("jail_bench: skipped: needs root (namespaces, cgroups, network namespaces)\n");
        return 0;
    }
    auto why = ex::testing::jailUnavailableReason();
    if (!why.empty()) {
        std::printf("jail_bench: skipped: the namespace jail cannot run here: %s\n", why.c_str());
        return 0;
    }
    try {
        spawnBench(spawnRuns);
        netnsBench(netnsRuns);
        volumeBench(std::max(10, netnsRuns / 2));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "jail_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
