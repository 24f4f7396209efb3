// Working-tree copy, honouring .gitignore through `git ls-files`.
#include "runner/engine/working_tree.h"

#include <unistd.h>

#include "runner/base/child_process.h"
#include "runner/base/error.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {

// NUL-separated paths from git, or nullopt when `dir` is not inside a work tree.
std::optional<std::vector<std::string>> gitFiles(const fs::path& dir) {
    if (!fs::exists(dir / ".git")) return std::nullopt;
    base::Pipe out = base::Pipe::create();
    auto child = base::ChildProcess::spawn(
        {.argv = {"git", "-c", "safe.directory=*", "ls-files", "-z", "--cached", "--others", "--exclude-standard"},
         .env = {"PATH=/usr/local/bin:/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent"},
         .cwd = dir,
         .stdout_fd = out.write.get()});
    out.write.reset();
    std::string data;
    char buf[65536];
    for (ssize_t n; (n = ::read(out.read.get(), buf, sizeof buf)) > 0;) data.append(buf, static_cast<size_t>(n));
    if (child.wait().exitCode() != 0) return std::nullopt;
    std::vector<std::string> files;
    size_t start = 0;
    for (size_t z; (z = data.find('\0', start)) != std::string::npos; start = z + 1) {
        files.push_back(data.substr(start, z - start));
    }
    return files;
}

void copyEntry(const fs::path& src, const fs::path& dst) {
    fs::create_directories(dst.parent_path());
    const auto st = fs::symlink_status(src);
    if (fs::is_symlink(st)) {
        fs::create_symlink(fs::read_symlink(src), dst);
    } else if (fs::is_regular_file(st)) {
        fs::copy_file(src, dst, fs::copy_options::overwrite_existing);
    } else if (fs::is_directory(st)) {
        fs::create_directories(dst);
    }
}

// Empties `to` without following anything in it: what a job left there (links to host files
// included) is removed, never written through. actions/checkout's default `clean: true` also
// leaves only the checked-out files.
void clearDirectory(const fs::path& to) {
    for (const auto& e : fs::directory_iterator(to)) fs::remove_all(e.path());
}

}  // namespace

void copyWorkingTree(const fs::path& from, const fs::path& to) {
    if (!fs::is_directory(from)) throw base::Error("cannot check out '" + from.string() + "': not a directory");
    if (fs::is_symlink(fs::symlink_status(to))) {
        throw base::Error("cannot check out into '" + to.string() + "': it is a symbolic link");
    }
    fs::create_directories(to);
    try {
        clearDirectory(to);
        auto files = gitFiles(from);
        if (!files) {
            fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks |
                                   fs::copy_options::overwrite_existing);
            return;
        }
        for (const auto& f : *files) {
            // Deleted-but-tracked files are listed too; skip what no longer exists.
            if (!fs::exists(fs::symlink_status(from / f))) continue;
            copyEntry(from / f, to / f);
        }
        fs::copy(from / ".git", to / ".git", fs::copy_options::recursive | fs::copy_options::copy_symlinks |
                                                 fs::copy_options::overwrite_existing);
    } catch (const fs::filesystem_error& e) {
        throw base::Error("copying the working tree '" + from.string() + "' into the workspace failed: " + e.what());
    }
}

}  // namespace nixjail::runner::engine
