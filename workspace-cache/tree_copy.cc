// Recursive copy and removal of directory trees, shared by the reflink and copy backends.
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <system_error>
#include <vector>

#include "runner/base/error.h"
#include "runner/base/unique_fd.h"
#include "workspace-cache/storage_backends.h"

namespace nixjail::cache {

namespace fs = std::filesystem;
using base::SysError;
using base::UniqueFd;

namespace {

void keepMetadata(const fs::path& dst, const struct stat& st, bool is_link) {
    if (::geteuid() == 0 && ::lchown(dst.c_str(), st.st_uid, st.st_gid) != 0)
        throw SysError("cannot set owner of '" + dst.string() + "'");
    if (!is_link && ::chmod(dst.c_str(), st.st_mode & 07777) != 0)
        throw SysError("cannot set mode of '" + dst.string() + "'");
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        throw SysError("cannot set times of '" + dst.string() + "'");
}

std::vector<std::string> listDir(const fs::path& dir) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d) throw SysError("cannot open directory '" + dir.string() + "'");
    while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
    return names;
}

void copyEntry(const fs::path& src, const fs::path& dst, const FileDataCopier& copy) {
    struct stat st {};
    if (::lstat(src.c_str(), &st) != 0) throw SysError("cannot stat '" + src.string() + "'");
    if (S_ISDIR(st.st_mode)) {
        if (::mkdir(dst.c_str(), 0700) != 0)
            throw SysError("cannot create directory '" + dst.string() + "'");
        for (const auto& name : listDir(src)) copyEntry(src / name, dst / name, copy);
        keepMetadata(dst, st, false);  // last, so a read-only directory can be filled first
    } else if (S_ISLNK(st.st_mode)) {
        std::error_code ec;
        fs::path target = fs::read_symlink(src, ec);
        if (ec) throw base::Error("cannot read symlink '" + src.string() + "': " + ec.message());
        if (::symlink(target.c_str(), dst.c_str()) != 0)
            throw SysError("cannot create symlink '" + dst.string() + "'");
        keepMetadata(dst, st, true);
    } else if (S_ISREG(st.st_mode)) {
        UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (!in) throw SysError("cannot open '" + src.string() + "'");
        UniqueFd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!out) throw SysError("cannot create '" + dst.string() + "'");
        copy(in.get(), out.get(), src);
        out.close();
        keepMetadata(dst, st, false);
    }
    // Devices, fifos and sockets do not occur in store paths or checkouts; skip them.
}

void removeEntry(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        throw SysError("cannot stat '" + path.string() + "'");
    }
    if (S_ISDIR(st.st_mode)) {
        if ((st.st_mode & 0700) != 0700) ::chmod(path.c_str(), 0700);
        for (const auto& name : listDir(path)) removeEntry(path / name);
        if (::rmdir(path.c_str()) != 0 && errno != ENOENT)
            throw SysError("cannot remove directory '" + path.string() + "'");
    } else if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        throw SysError("cannot remove '" + path.string() + "'");
    }
}

}  // namespace

void cloneOrCopyFileData(int in, int out, const fs::path& src) {
    if (::ioctl(out, FICLONE, in) == 0) return;
    if (errno != EXDEV && errno != EOPNOTSUPP && errno != EINVAL && errno != ENOTTY)
        throw SysError("cannot reflink '" + src.string() + "' (FICLONE)");
    copyFileData(in, out, src);
}

void copyTree(const fs::path& src, const fs::path& dst, const FileDataCopier& copy) {
    copyEntry(src, dst, copy);
}

void removeTree(const fs::path& path) { removeEntry(path); }

}  // namespace nixjail::cache
