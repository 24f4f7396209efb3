// Whole-file reads and writes.
#include "runner/base/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/base/error.h"
#include "runner/base/unique_fd.h"

namespace nixjail::base {

void writeAll(int fd, std::string_view content, const std::string& what) {
    while (!content.empty()) {
        ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw SysError("writing " + what);
        }
        content.remove_prefix(static_cast<size_t>(n));
    }
}

namespace {
void writeWithFlags(const std::filesystem::path& path, std::string_view content, int flags, int mode) {
    UniqueFd fd(::open(path.c_str(), flags | O_WRONLY | O_CLOEXEC, mode));
    if (!fd) throw SysError("opening '" + path.string() + "' for writing");
    writeAll(fd.get(), content, "'" + path.string() + "'");
    fd.close();
}
}  // namespace

std::string readFile(const std::filesystem::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw SysError("reading '" + path.string() + "'");
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw SysError("reading '" + path.string() + "'");
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

void writeFile(const std::filesystem::path& path, std::string_view content) {
    writeWithFlags(path, content, O_CREAT | O_TRUNC, 0644);
}

void writeFileAtomic(const std::filesystem::path& path, std::string_view content, int mode) {
    auto tmp = path;
    tmp += ".tmp-" + std::to_string(::getpid());
    writeWithFlags(tmp, content, O_CREAT | O_TRUNC | O_EXCL, mode);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw SysError("renaming '" + tmp.string() + "' to '" + path.string() + "'", err);
    }
}

std::filesystem::path firstNotSearchableByOthers(const std::filesystem::path& path) {
    for (std::filesystem::path p = std::filesystem::absolute(path); !p.empty(); p = p.parent_path()) {
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH)) return p;
        if (p == p.root_path()) break;
    }
    return {};
}

void copyFileData(int in, int out, const std::filesystem::path& src) {
    for (;;) {
        ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
        if (n == 0) return;
        if (n > 0) continue;
        if (errno == EINTR) continue;
        if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL)
            throw SysError("cannot copy '" + src.string() + "'");
        break;  // fall back to read/write (e.g. across filesystems on old kernels)
    }
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(in, buf, sizeof buf);
        if (n == 0) return;
        if (n < 0) {
            if (errno == EINTR) continue;
            throw SysError("cannot read '" + src.string() + "'");
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = ::write(out, buf + off, n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw SysError("cannot write copy of '" + src.string() + "'");
            off += w;
        }
    }
}

}  // namespace nixjail::base
