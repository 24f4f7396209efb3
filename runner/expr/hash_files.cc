// hashFiles() over a workspace, opening everything relative to the workspace with openat2's
// RESOLVE_BENEATH so that symlinks (even ones swapped in while we walk) cannot lead outside it.
#include "runner/expr/hash_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "runner/base/error.h"
#include "runner/base/unique_fd.h"
#include "runner/expr/glob_pattern.h"

namespace nixjail::runner::expr {
namespace {

using base::UniqueFd;
using Segments = std::vector<std::string>;

constexpr const char* kFollowFlag = "--follow-symbolic-links";

struct DigestCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using DigestCtx = std::unique_ptr<EVP_MD_CTX, DigestCtxFree>;

class Sha256 {
  public:
    Sha256() : ctx_(EVP_MD_CTX_new()) {
        if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
            throw base::Error("hashFiles: cannot initialise SHA-256 (OpenSSL)");
        }
    }
    void update(const void* data, size_t len) {
        if (EVP_DigestUpdate(ctx_.get(), data, len) != 1) {
            throw base::Error("hashFiles: SHA-256 update failed (OpenSSL)");
        }
    }
    std::string finish() {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(ctx_.get(), md, &len) != 1) {
            throw base::Error("hashFiles: SHA-256 final failed (OpenSSL)");
        }
        return std::string(reinterpret_cast<char*>(md), len);
    }

  private:
    DigestCtx ctx_;
};

std::string joinRel(const Segments& rel) {
    std::string out;
    for (const auto& s : rel) {
        if (!out.empty()) out += '/';
        out += s;
    }
    return out.empty() ? "." : out;
}

// Opens workspace/rel without leaving the workspace. Without `follow` no symlink is followed at
// all; with it, symlinks are followed as long as they resolve inside the workspace.
// Returns an invalid fd and sets errno on failure (EXDEV/ELOOP: it would leave or loop).
UniqueFd openBeneath(int workspaceFd, const std::string& rel, int flags, bool follow) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (follow ? 0 : RESOLVE_NO_SYMLINKS);
    long fd = syscall(SYS_openat2, workspaceFd, rel.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno != ENOSYS) return UniqueFd();
    throw base::Error(
        "hashFiles needs openat2(2) (Linux 5.6 or later) to read the workspace safely");
}

bool isPrefix(const Segments& prefix, const Segments& path) {
    return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

class Walker {
  public:
    Walker(const std::filesystem::path& workspace, std::vector<std::string> args) {
        if (!args.empty() && args.front() == kFollowFlag) {
            follow_ = true;
            args.erase(args.begin());
        }
        std::error_code ec;
        auto canonical = std::filesystem::canonical(workspace, ec);
        if (ec) {
            throw base::Error("hashFiles: cannot read the workspace '" + workspace.string() +
                              "': " + ec.message());
        }
        workspace_ = canonical.string();
        wsSegments_ = splitPath(workspace_);
        wsFd_ = UniqueFd(::open(workspace_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!wsFd_)
            throw base::SysError("hashFiles: cannot open the workspace '" + workspace_ + "'");
        patterns_ = parseGlobPatterns(args, wsSegments_);
    }

    std::string run() {
        for (const auto& root : searchRoots()) walk(root);
        if (count_ == 0) return "";
        std::string digest = combined_.finish();
        static const char* hex = "0123456789abcdef";
        std::string out;
        for (unsigned char c : digest) {
            out += hex[c >> 4];
            out += hex[c & 15];
        }
        return out;
    }

  private:
    // Search roots clamped to the workspace, without those below another root.
    std::vector<Segments> searchRoots() const {
        std::vector<Segments> candidates;
        for (const auto& p : patterns_) {
            if (p.negate) continue;
            Segments root = searchRoot(p);
            if (isPrefix(root, wsSegments_)) {
                root = wsSegments_;  // only files in the workspace count
            } else if (!isPrefix(wsSegments_, root)) {
                continue;  // entirely outside the workspace
            }
            if (std::find(candidates.begin(), candidates.end(), root) == candidates.end()) {
                candidates.push_back(std::move(root));
            }
        }
        std::vector<Segments> roots;
        for (const auto& c : candidates) {
            bool below = std::any_of(candidates.begin(), candidates.end(), [&](const Segments& o) {
                return o.size() < c.size() && isPrefix(o, c);
            });
            if (!below) roots.push_back(c);
        }
        return roots;
    }

    Segments relative(const Segments& abs) const {
        return Segments(abs.begin() + static_cast<long>(wsSegments_.size()), abs.end());
    }

    bool worthDescending(const Segments& dir) const {
        return std::any_of(patterns_.begin(), patterns_.end(), [&](const GlobPattern& p) {
            return !p.negate && couldMatchBelow(p, dir);
        });
    }

    std::string display(const Segments& abs) const {
        return workspace_ + "/" + joinRel(relative(abs));
    }

    // Pre-order depth-first walk, each directory's entries in byte order of their names, as
    // @actions/glob does (a directory's subtree comes before its next sibling). Like it, a
    // directory that is its own ancestor on the current path (a symlink cycle) is skipped.
    void walk(const Segments& root) {
        struct Entry {
            Segments path;
            size_t level;
        };
        std::vector<Entry> stack{{root, 0}};
        std::vector<std::pair<dev_t, ino_t>> chain;
        while (!stack.empty()) {
            Entry e = std::move(stack.back());
            stack.pop_back();
            if (e.level > 0 && !visit(e.path)) continue;
            UniqueFd fd = openBeneath(wsFd_.get(), joinRel(relative(e.path)),
                                      O_RDONLY | O_DIRECTORY, follow_);
            if (!fd) continue;  // vanished, not a directory, or a symlink we don't follow
            struct stat st {};
            if (::fstat(fd.get(), &st) != 0) continue;
            chain.resize(std::min(chain.size(), e.level));
            std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
            if (std::find(chain.begin(), chain.end(), id) != chain.end()) continue;
            chain.push_back(id);
            std::vector<std::string> names = list(std::move(fd), e.path);
            for (auto it = names.rbegin(); it != names.rend(); ++it) {
                Segments child = e.path;
                child.push_back(*it);
                stack.push_back({std::move(child), e.level + 1});
            }
        }
    }

    std::vector<std::string> list(UniqueFd fd, const Segments& dir) const {
        DIR* d = ::fdopendir(fd.get());
        if (!d) throw base::SysError("hashFiles: cannot list '" + display(dir) + "'");
        fd.release();
        std::vector<std::string> names;
        while (dirent* e = ::readdir(d)) {
            if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
            names.emplace_back(e->d_name);
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        return names;
    }

    // Hashes `path` when it is a selected file; returns true when it is a directory to descend.
    bool visit(const Segments& path) {
        std::string rel = joinRel(relative(path));
        struct stat st {};
        if (::fstatat(wsFd_.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
        if (S_ISDIR(st.st_mode)) return worthDescending(path);
        if (S_ISLNK(st.st_mode)) {
            struct stat target {};
            UniqueFd probe = openBeneath(wsFd_.get(), rel, O_PATH, true);
            if (probe && ::fstat(probe.get(), &target) == 0 && S_ISDIR(target.st_mode)) {
                return follow_ && worthDescending(path);
            }
        } else if (!S_ISREG(st.st_mode)) {
            return false;  // fifos, sockets, devices: never read
        }
        if (!selectsFile(patterns_, path)) return false;
        hashFile(rel, S_ISLNK(st.st_mode) || follow_, path);
        return false;
    }

    void hashFile(const std::string& rel, bool followLinks, const Segments& path) {
        UniqueFd fd = openBeneath(wsFd_.get(), rel, O_RDONLY | O_NONBLOCK, followLinks);
        if (!fd) {
            if (errno == EXDEV || errno == ELOOP) return;  // points outside the workspace
            throw base::SysError("hashFiles: cannot open '" + display(path) +
                                 "'; remove it or exclude it with a '!' pattern");
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return;
        Sha256 file;
        char buf[65536];
        while (true) {
            ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n == 0) break;
            if (n < 0) {
                if (errno == EINTR) continue;
                throw base::SysError("hashFiles: cannot read '" + display(path) + "'");
            }
            file.update(buf, static_cast<size_t>(n));
        }
        std::string digest = file.finish();
        combined_.update(digest.data(), digest.size());
        ++count_;
    }

    bool follow_ = false;
    std::string workspace_;
    Segments wsSegments_;
    UniqueFd wsFd_;
    std::vector<GlobPattern> patterns_;
    Sha256 combined_;
    size_t count_ = 0;
};

}  // namespace

std::string hashFiles(const std::filesystem::path& workspace,
                      const std::vector<std::string>& patterns) {
    return Walker(workspace, patterns).run();
}

}  // namespace nixjail::runner::expr
