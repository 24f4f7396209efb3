// Writing a tree from the object database: one walk lists the directories and the selected
// entries, the directories are made once, then two threads write the files, each keeping a
// descriptor of the directory it is writing into.
#include "workspace-cache/tree_writer.h"

#include <fcntl.h>
#include <git2/sys/path.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runner/base/ascii.h"
#include "runner/base/error.h"
#include "runner/base/unique_fd.h"
#include "workspace-cache/git_error.h"

namespace nixjail::cache {

namespace fs = std::filesystem;
using base::SysError;
using base::UniqueFd;

namespace {

using GitOdb = std::unique_ptr<git_odb, GitDeleter<git_odb, git_odb_free>>;
using GitOdbObject =
    std::unique_ptr<git_odb_object, GitDeleter<git_odb_object, git_odb_object_free>>;

constexpr size_t kChunk = 64;     // entries a writer takes at a time, from one or two directories
constexpr unsigned kWriters = 2;  // the main thread and one more (bench/README.md, goal 7)

// NTFS drops trailing dots and spaces and reads "x:y" as stream y of x: "name. :y" is "name".
bool isNtfsAlias(std::string_view name, std::string_view of) {
    if (name.size() < of.size() || !base::asciiEqualsIgnoreCase(name.substr(0, of.size()), of)) return false;
    std::string_view rest = name.substr(of.size());
    return rest.substr(0, rest.find(':')).find_first_not_of(". ") == std::string_view::npos;
}

struct Dir {
    std::string path;  // relative to the destination; "" for the destination itself
    size_t parent;     // index in the list of directories; the destination is its own parent
    bool made;
};

struct Entry {
    size_t dir;  // index in the list of directories
    std::string name;
    git_oid id;
    git_filemode_t mode;
};

class TreeWriter {
  public:
    TreeWriter(git_repository* repo, const git_pathspec* selected, const fs::path& dst)
        : repo_(repo), selected_(selected), dst_(dst) {
        git_odb* odb = nullptr;
        checkGit(git_repository_odb(&odb, repo),
                 "cannot open the objects of '" + std::string(git_repository_path(repo)) + "'");
        odb_.reset(odb);
        root_.reset(::open(dst.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root_) throw SysError("cannot open checkout directory '" + dst.string() + "'");
        dirs_.push_back({"", 0, true});
    }

    // Lists the files of `tree` (in directory `dir`) before going down into its subtrees, so
    // that a directory's files stay together.
    void collect(const git_tree* tree, size_t dir) {
        const size_t count = git_tree_entrycount(tree);
        for (size_t i = 0; i < count; ++i) {
            const git_tree_entry* e = git_tree_entry_byindex(tree, i);
            const git_filemode_t mode = git_tree_entry_filemode(e);
            if (mode == GIT_FILEMODE_TREE) continue;
            Entry entry{dir, git_tree_entry_name(e), *git_tree_entry_id(e), mode};
            if (selected_ && !git_pathspec_matches_path(selected_, 0, pathOf(entry).c_str()))
                continue;
            if (!isCheckoutSafeName(entry.name, mode)) throw invalidPath(pathOf(entry));
            entries_.push_back(std::move(entry));
        }
        for (size_t i = 0; i < count; ++i) {
            const git_tree_entry* e = git_tree_entry_byindex(tree, i);
            if (git_tree_entry_filemode(e) != GIT_FILEMODE_TREE) continue;
            const std::string path = join(dirs_[dir].path, git_tree_entry_name(e));
            git_tree* sub = nullptr;
            if (const int rc = git_tree_lookup(&sub, repo_, git_tree_entry_id(e)); rc < 0) {
                checkGit(rc, "cannot read tree " +
                                 std::string(git_oid_tostr_s(git_tree_entry_id(e))) + " of '" +
                                 path + "' from '" + git_repository_path(repo_) + "'");
            }
            GitTree owned(sub);
            dirs_.push_back({path, dir, false});
            collect(sub, dirs_.size() - 1);
        }
    }

    // Makes the directories that hold a selected entry, and the submodules' empty directories.
    void makeDirectories() {
        for (const Entry& e : entries_) {
            makeDirectory(e.dir);
            if (e.mode == GIT_FILEMODE_COMMIT &&
                ::mkdirat(root_.get(), pathOf(e).c_str(), 0755) != 0)
                throw SysError("cannot create submodule directory '" + (dst_ / pathOf(e)).string() +
                               "'");
        }
    }

    // The main thread and a helper take chunks of the entries in turn; the first error stops both
    // and is rethrown here.
    void writeFiles() {
        std::atomic<size_t> next = 0;
        std::atomic<bool> failed = false;
        std::mutex error_mutex;
        std::exception_ptr error;
        auto work = [&] {
            try {
                UniqueFd dir_fd;
                size_t dir = SIZE_MAX;
                for (size_t begin; !failed && (begin = next.fetch_add(kChunk)) < entries_.size();) {
                    for (size_t i = begin; i < std::min(begin + kChunk, entries_.size()); ++i) {
                        if (entries_[i].mode == GIT_FILEMODE_COMMIT) continue;
                        if (entries_[i].dir != dir) {
                            dir = entries_[i].dir;
                            dir_fd = openDirectory(dir);
                        }
                        write(entries_[i], dir_fd.get());
                    }
                }
            } catch (...) {
                std::lock_guard lock(error_mutex);
                if (!error) error = std::current_exception();
                failed = true;
            }
        };
        {
            std::vector<std::jthread> helpers;
            for (unsigned i = 1; i < kWriters && i * kChunk < entries_.size(); ++i)
                helpers.emplace_back(work);
            work();
        }
        if (error) std::rethrow_exception(error);
    }

  private:
    static std::string join(const std::string& dir, std::string_view name) {
        return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
    }
    std::string pathOf(const Entry& e) const { return join(dirs_[e.dir].path, e.name); }
    base::Error invalidPath(const std::string& path) const {
        return base::Error("refusing to check out '" + path + "' into '" + dst_.string() +
                           "': git does not allow this name in a working tree");
    }

    void makeDirectory(size_t dir) {
        if (dirs_[dir].made) return;
        makeDirectory(dirs_[dir].parent);
        const std::string& path = dirs_[dir].path;
        if (!isCheckoutSafeName(fs::path(path).filename().native(), GIT_FILEMODE_TREE))
            throw invalidPath(path);
        if (::mkdirat(root_.get(), path.c_str(), 0755) != 0)
            throw SysError("cannot create directory '" + (dst_ / path).string() + "'");
        dirs_[dir].made = true;
    }

    UniqueFd openDirectory(size_t dir) const {
        const std::string& path = dirs_[dir].path;
        UniqueFd fd(::openat(root_.get(), path.empty() ? "." : path.c_str(),
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) throw SysError("cannot open directory '" + (dst_ / path).string() + "'");
        return fd;
    }

    // Messages are built only on failure: this runs once per file.
    void write(const Entry& e, int dir_fd) const {
        auto target = [&] { return "'" + (dst_ / pathOf(e)).string() + "'"; };
        git_odb_object* raw = nullptr;
        if (const int rc = git_odb_read(&raw, odb_.get(), &e.id); rc < 0) {
            checkGit(rc, "cannot read blob " + std::string(git_oid_tostr_s(&e.id)) + " of '" +
                             pathOf(e) + "' from '" + git_repository_path(repo_) + "'");
        }
        GitOdbObject blob(raw);
        const char* data = static_cast<const char*>(git_odb_object_data(blob.get()));
        const size_t size = git_odb_object_size(blob.get());
        if (e.mode == GIT_FILEMODE_LINK) {
            if (::symlinkat(std::string(data, size).c_str(), dir_fd, e.name.c_str()) != 0)
                throw SysError("cannot create symbolic link " + target());
            return;
        }
        const mode_t perms = e.mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
        UniqueFd fd(::openat(dir_fd, e.name.c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perms));
        if (!fd) throw SysError("cannot create " + target());
        for (size_t done = 0; done < size;) {
            const ssize_t n = ::write(fd.get(), data + done, size - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw SysError("cannot write " + target());
            done += static_cast<size_t>(n);
        }
        if (::close(fd.release()) != 0) throw SysError("cannot write " + target());
    }

    git_repository* repo_;
    const git_pathspec* selected_;
    fs::path dst_;
    GitOdb odb_;
    UniqueFd root_;
    std::vector<Dir> dirs_;
    std::vector<Entry> entries_;
};

}  // namespace

bool isCheckoutSafeName(std::string_view name, git_filemode_t mode) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != name.npos) return false;
    if (isNtfsAlias(name, ".git") || isNtfsAlias(name, "git~1")) return false;
    return mode != GIT_FILEMODE_LINK ||
           !git_path_is_gitfile(name.data(), name.size(), GIT_PATH_GITFILE_GITMODULES,
                                GIT_PATH_FS_GENERIC);
}

void writeTree(git_repository* repo, const git_tree* tree, const git_pathspec* selected,
               const fs::path& dst) {
    TreeWriter writer(repo, selected, dst);
    writer.collect(tree, 0);
    writer.makeDirectories();
    writer.writeFiles();
}

}  // namespace nixjail::cache
