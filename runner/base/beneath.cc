// Resolving below a directory fd without following links: openat2 where the kernel has it, a
// component walk with O_NOFOLLOW where it does not.
#include "runner/base/beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "runner/base/error.h"
#include "runner/base/file_io.h"

namespace nixjail::base {

namespace fs = std::filesystem;

namespace {

// The fallback: every component opened with O_NOFOLLOW, directories as O_PATH, ".." refused.
UniqueFd openByComponents(int dirFd, const std::string& rel, int flags) {
    UniqueFd cur(::fcntl(dirFd, F_DUPFD_CLOEXEC, 0));
    if (!cur) return cur;
    std::string_view rest = rel;
    while (!rest.empty()) {
        const size_t slash = rest.find('/');
        const std::string part(rest.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
        if (part.empty() || part == ".") {
            if (rest.empty()) break;
            continue;
        }
        if (part == "..") {
            errno = EXDEV;
            return UniqueFd();
        }
        const bool last = rest.find_first_not_of('/') == std::string_view::npos;
        const int f = last ? flags : (O_PATH | O_DIRECTORY);
        UniqueFd next(::openat(cur.get(), part.c_str(), f | O_NOFOLLOW | O_CLOEXEC));
        if (!next) return next;
        cur = std::move(next);
        if (last) return cur;
    }
    // "" or "." alone: the directory itself, opened with the caller's flags.
    return UniqueFd(::openat(cur.get(), ".", flags | O_CLOEXEC));
}

const char* kindOf(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "something other than a regular file";
}

}  // namespace

StepFileTooLarge::StepFileTooLarge(const std::string& what, std::size_t size, std::size_t limit)
    : Error(what + " is larger than the " + std::to_string(limit >> 10) +
            " KiB the runner reads; write less to it"),
      size_(size),
      limit_(limit) {}

UniqueFd openBeneath(int dirFd, const std::string& rel, int flags, bool followInside) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (followInside ? 0 : RESOLVE_NO_SYMLINKS);
    const char* path = rel.empty() ? "." : rel.c_str();
    for (;;) {
        const long fd = ::syscall(SYS_openat2, dirFd, path, &how, sizeof how);
        if (fd >= 0) return UniqueFd(static_cast<int>(fd));
        if (errno == EAGAIN) continue;  // a concurrent rename; the kernel asks to retry
        if (errno != ENOSYS) return UniqueFd();
        break;
    }
    // Without openat2 no link can be followed safely: the walk refuses them all.
    return openByComponents(dirFd, rel, flags);
}

UniqueFd openDirectoryNoFollow(const fs::path& path, const std::string& what) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw SysError("cannot open " + what + " '" + path.string() + "'");
    return fd;
}

namespace {

std::optional<std::string> readBeneath(int dirFd, const std::string& rel, std::size_t maxBytes,
                                       const std::string& what, bool stepFile) {
    UniqueFd fd = openBeneath(dirFd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, !stepFile);
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        if (errno == ELOOP && stepFile) {
            throw Error(what + " was replaced by a symbolic link; refusing to read it");
        }
        if (errno == ELOOP || errno == EXDEV) {
            throw Error(what + " is a symbolic link leading outside its directory; refusing to read it");
        }
        throw SysError("cannot read " + what);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw SysError("cannot read " + what);
    if (!S_ISREG(st.st_mode)) {
        throw Error(what + (stepFile ? " was replaced by " : " is ") + kindOf(st.st_mode) +
                    "; refusing to read it");
    }
    if (stepFile && st.st_nlink != 1) {
        throw Error(what + " has " + std::to_string(st.st_nlink) +
                    " hard links (it was replaced by a link to another file); refusing to read it");
    }
    if (static_cast<std::size_t>(st.st_size) > maxBytes) {
        throw StepFileTooLarge(what, static_cast<std::size_t>(st.st_size), maxBytes);
    }
    // The size can grow after fstat (a hole, a file still being written): read at most one byte
    // past the limit to tell.
    std::string out;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw SysError("cannot read " + what);
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > maxBytes) {
            throw StepFileTooLarge(what, out.size() + static_cast<std::size_t>(n), maxBytes);
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

}  // namespace

std::optional<std::string> readStepFile(int dirFd, const std::string& name, std::size_t maxBytes,
                                        const std::string& what) {
    return readBeneath(dirFd, name, maxBytes, what, true);
}

std::optional<std::string> readFileBeneath(int dirFd, const std::string& rel, std::size_t maxBytes,
                                           const std::string& what) {
    return readBeneath(dirFd, rel, maxBytes, what, false);
}

UniqueFd createStepFile(int dirFd, const std::string& name, int mode, const std::string& what,
                        std::optional<std::pair<uid_t, gid_t>> owner) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
        throw Error("cannot create " + what + ": '" + name + "' is not a plain file name");
    }
    UniqueFd fd(::openat(dirFd, name.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode));
    if (!fd) throw SysError("cannot create " + what + " '" + name + "'");
    if (owner && ::fchown(fd.get(), owner->first, owner->second) != 0) {
        throw SysError("cannot hand " + what + " '" + name + "' to the jail's user");
    }
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) {  // the umask does not decide
        throw SysError("cannot set the mode of " + what + " '" + name + "'");
    }
    return fd;
}

void writeStepFile(int dirFd, const std::string& name, int mode, std::string_view content,
                   const std::string& what) {
    const auto fd = createStepFile(dirFd, name, mode, what);
    writeAll(fd.get(), content, what + " '" + name + "'");
}

UniqueFd makeDirectoryIn(int dirFd, const std::string& name, const std::string& what) {
    if (::mkdirat(dirFd, name.c_str(), 0755) != 0 && errno != EEXIST) {
        throw SysError("cannot create " + what);
    }
    UniqueFd fd = openBeneath(dirFd, name, O_RDONLY | O_DIRECTORY);
    if (!fd) {
        if (errno == ELOOP) throw Error(what + " was replaced by a symbolic link; refusing to use it");
        if (errno == ENOTDIR) throw Error(what + " was replaced by a file; refusing to use it");
        throw SysError("cannot open " + what);
    }
    return fd;
}

std::optional<fs::path> firstNonDirectoryBeneath(const fs::path& base, const fs::path& rel) {
    fs::path cur = base;
    fs::path shown;
    for (const auto& part : rel) {
        if (part.empty() || part == ".") continue;
        cur /= part;
        shown /= part;
        struct stat st {};
        if (::lstat(cur.c_str(), &st) != 0) {
            if (errno == ENOENT) return std::nullopt;
            return shown;
        }
        if (!S_ISDIR(st.st_mode)) return shown;
    }
    return std::nullopt;
}

fs::path plainPathBeneath(const fs::path& base, const std::string& rel, const std::string& what) {
    const auto n = normalizedBeneath(rel);
    if (!n) throw Error(what + " '" + rel + "' points outside the workspace");
    if (const auto bad = firstNonDirectoryBeneath(base, n->parent_path())) {
        throw Error(what + " '" + rel + "': '" + bad->string() +
                    "' is a symbolic link or a file, not a directory; refusing to go through it");
    }
    // `base / ""` would end in a separator, and "workspace/" is not "workspace" to parent_path().
    const fs::path p = n->empty() ? base : base / *n;
    struct stat st {};
    if (!n->empty() && ::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
        throw Error(what + " '" + rel + "' is a symbolic link; refusing to use it");
    }
    return p;
}

std::optional<fs::path> normalizedBeneath(const fs::path& rel) {
    if (rel.is_absolute()) return std::nullopt;
    const fs::path n = rel.lexically_normal();
    if (!n.empty() && *n.begin() == "..") return std::nullopt;
    fs::path out;
    for (const auto& part : n) {
        if (!part.empty() && part != ".") out /= part;
    }
    return out;
}

}  // namespace nixjail::base
