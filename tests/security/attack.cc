// Attack programs run inside the jail by security_test.cc. Each prints one line: "OK ..." when the
// attack worked, or the errno name (EPERM, ENOENT, ...) of the call that stopped it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <linux/perf_event.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int report(int rc) {
    if (rc >= 0) {
        std::printf("OK\n");
        return 1;
    }
    std::printf("%s\n", strerrorname_np(errno));
    return 0;
}

int readFile(const char* path) {
    int fd = ::open(path, O_RDONLY);
    if (fd < 0) return report(-1);
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    if (n < 0) return report(-1);
    buf[n] = 0;
    std::printf("OK %s\n", buf);
    return 1;
}

int connectTo(const char* ip, const char* port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return report(-1);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
    ::inet_pton(AF_INET, ip, &addr.sin_addr);
    return report(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
}

int socketOf(const char* kind) {
    std::string k = kind;
    if (k == "raw") return report(::socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
    if (k == "raw6") return report(::socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6));
    if (k == "packet") return report(::socket(AF_PACKET, SOCK_RAW, 0));
    if (k == "netlink") return report(::socket(AF_NETLINK, SOCK_RAW, 0));
    // The upper half of the register must not smuggle a family past the filter.
    if (k == "netlink-high")
        return report(
            static_cast<int>(::syscall(SYS_socket, 0x100000000L | AF_NETLINK, SOCK_RAW, 0)));
    return 2;
}

// IPv6 (a link-local address needs the interface's index as its scope).
int connect6(const char* ip, const char* port, const char* scope) {
    int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return report(-1);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(static_cast<uint16_t>(std::atoi(port)));
    addr.sin6_scope_id = static_cast<uint32_t>(std::atoi(scope));
    if (::inet_pton(AF_INET6, ip, &addr.sin6_addr) != 1) {
        std::printf("bad address %s\n", ip);
        return 2;
    }
    return report(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
}

// A unix socket by path, or in the abstract namespace (no file: only the network namespace
// stands between the jail and a host service listening there).
int connectUnix(const char* name, bool abstract) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return report(-1);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const size_t n = std::min(std::strlen(name), sizeof addr.sun_path - 2);
    std::memcpy(addr.sun_path + (abstract ? 1 : 0), name, n);
    const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n + (abstract ? 1 : 0));
    return report(::connect(fd, reinterpret_cast<sockaddr*>(&addr), len));
}

int openFor(const char* path, int flags) { return report(::open(path, flags)); }

// setsid + double fork; the grandchild re-execs itself to sleep with `marker` in its argv.
int daemonize(const char* self, const char* marker) {
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setsid();
        if (::fork() == 0) {
            ::execl(self, self, "sleep-forever", marker, static_cast<char*>(nullptr));
            ::_exit(1);
        }
        ::_exit(0);
    }
    ::waitpid(pid, nullptr, 0);
    std::printf("OK daemonized\n");
    return 0;
}

// Forks until the pids limit stops it; children just wait to be killed.
int forkBomb() {
    for (int i = 0; i < 100000; ++i) {
        pid_t pid = ::fork();
        if (pid < 0) {
            std::printf("%s after %d\n", strerrorname_np(errno), i);
            return 0;
        }
        if (pid == 0) {
            ::pause();
            ::_exit(0);
        }
    }
    std::printf("OK unlimited\n");
    return 1;
}

int memoryBomb() {
    for (size_t mb = 0;; ++mb) {
        char* p = static_cast<char*>(std::malloc(1 << 20));
        if (!p) return report(-1);
        std::memset(p, 1, 1 << 20);
        if (mb == 1 << 16) break;
    }
    std::printf("OK unlimited\n");
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IONBF, 0);
    if (argc < 2) return 2;
    std::string cmd = argv[1];
    const char* a = argc > 2 ? argv[2] : "";
    const char* b = argc > 3 ? argv[3] : "";
    if (cmd == "read") return readFile(a);
    if (cmd == "write") return report(::open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    if (cmd == "connect") return connectTo(a, b);
    if (cmd == "socket") return socketOf(a);
    if (cmd == "ptrace")
        return report(static_cast<int>(::ptrace(PTRACE_ATTACH, std::atoi(a), nullptr, nullptr)));
    if (cmd == "kill0") return report(::kill(std::atoi(a), 0));
    if (cmd == "mount") return report(::mount("tmpfs", "/tmp", "tmpfs", 0, nullptr));
    if (cmd == "userns") return report(::unshare(CLONE_NEWUSER));
    if (cmd == "netns") return report(::unshare(CLONE_NEWNET));
    if (cmd == "module") return report(static_cast<int>(::syscall(SYS_finit_module, 0, "", 0)));
    if (cmd == "init-module")
        return report(static_cast<int>(::syscall(SYS_init_module, nullptr, 0, "")));
    if (cmd == "euid") {
        std::printf("%d %d\n", static_cast<int>(::geteuid()), static_cast<int>(::getuid()));
        return 0;
    }
    if (cmd == "setuid0") return report(::setuid(0));
    if (cmd == "chmod-suid") return report(::chmod(a, 04755));
    if (cmd == "wx") {
        void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return report(p == MAP_FAILED ? -1 : 0);
    }
    if (cmd == "io_uring") {
        // io_uring would run socket()/connect() without passing through the seccomp filter.
        unsigned char params[120] = {};
        return report(static_cast<int>(::syscall(SYS_io_uring_setup, 4, params)));
    }
    if (cmd == "x32") {
        // getpid through the x32 ABI (__X32_SYSCALL_BIT): a foreign ABI the filter must refuse.
        return report(static_cast<int>(::syscall(0x40000000L | SYS_getpid)));
    }
    if (cmd == "daemonize") return daemonize(argv[0], a);
    if (cmd == "sleep-forever") {
        for (;;) ::pause();
    }
    if (cmd == "forkbomb") return forkBomb();
    if (cmd == "membomb") return memoryBomb();
    if (cmd == "connect6") return connect6(a, argc > 3 ? argv[3] : "0", argc > 4 ? argv[4] : "0");
    if (cmd == "unix") return connectUnix(a, false);
    if (cmd == "abstract") return connectUnix(a, true);
    if (cmd == "keyctl")
        return report(static_cast<int>(::syscall(SYS_add_key, "user", "nixjail", "x", 1, -3)));
    if (cmd == "bpf") {
        unsigned char attr[128] = {};
        return report(static_cast<int>(::syscall(SYS_bpf, 0, attr, sizeof attr)));
    }
    if (cmd == "perf") {
        perf_event_attr attr{};
        attr.type = PERF_TYPE_SOFTWARE;
        attr.size = sizeof attr;
        attr.config = PERF_COUNT_SW_CPU_CLOCK;
        return report(static_cast<int>(::syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0)));
    }
    if (cmd == "userfaultfd") return report(static_cast<int>(::syscall(SYS_userfaultfd, 0)));
    if (cmd == "kexec") return report(static_cast<int>(::syscall(SYS_kexec_load, 0, 0, nullptr, 0)));
    if (cmd == "chroot") return report(::chroot("/tmp"));
    if (cmd == "open-by-handle") {
        struct {
            file_handle h;
            unsigned char bytes[128];
        } handle{};
        handle.h.handle_bytes = 8;
        handle.h.handle_type = 1;
        return report(static_cast<int>(::syscall(SYS_open_by_handle_at, AT_FDCWD, &handle.h, O_RDONLY)));
    }
    if (cmd == "mknod-block") return report(::mknod("/tmp/disk", S_IFBLK | 0600, makedev(8, 0)));
    if (cmd == "settime") {
        timespec now{};
        ::clock_gettime(CLOCK_REALTIME, &now);
        return report(::clock_settime(CLOCK_REALTIME, &now));
    }
    if (cmd == "sethostname") return report(::sethostname("pwned", 5));
    if (cmd == "swapon") return report(static_cast<int>(::syscall(SYS_swapon, "/tmp/swap", 0)));
    if (cmd == "fsopen") return report(static_cast<int>(::syscall(SYS_fsopen, "tmpfs", 0)));
    if (cmd == "pivot-root") return report(static_cast<int>(::syscall(SYS_pivot_root, ".", ".")));
    if (cmd == "acct") return report(::acct("/tmp/acct"));
    if (cmd == "ioperm") return report(static_cast<int>(::syscall(SYS_ioperm, 0x80, 1, 1)));
    if (cmd == "open-write") return openFor(a, O_WRONLY);
    if (cmd == "open-read") return openFor(a, O_RDONLY);
    std::fprintf(stderr, "unknown attack '%s'\n", cmd.c_str());
    return 2;
}
