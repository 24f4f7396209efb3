// Naming the program a jailed step lacks, and the package that would provide it.
#include "runner/engine/missing_program.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "runner/base/unique_fd.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {

bool isAllDigits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool isProgramName(std::string_view s) {
    return !s.empty() && s.size() < 256 &&
           std::none_of(s.begin(), s.end(), [](char c) { return c == '/' || c == ':' || c == ' ' || c == '\t'; });
}

// `line` split at ": " into fields.
std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    for (size_t start = 0;;) {
        const size_t sep = line.find(": ", start);
        out.push_back(line.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start));
        if (sep == std::string_view::npos) return out;
        start = sep + 2;
    }
}

// Opens `rel` below `dirFd` with openat2; -1 with errno on failure (ENOSYS without openat2).
base::UniqueFd openResolved(int dirFd, const std::string& rel, unsigned long long resolve) {
    struct open_how how {};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = resolve | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, dirFd, rel.c_str(), &how, sizeof how);
    return base::UniqueFd(fd < 0 ? -1 : static_cast<int>(fd));
}

// An executable file at `rel` below `dir` (as the jail resolves it: inside the root, or below a
// bind without any link).
ProgramPresence presenceBelow(const fs::path& dir, const std::string& rel, bool inRoot) {
    base::UniqueFd d(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d) return ProgramPresence::kUnknown;
    const auto fd = openResolved(d.get(), rel, inRoot ? RESOLVE_IN_ROOT : RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
    if (!fd) return errno == ENOENT || errno == ENOTDIR ? ProgramPresence::kMissing : ProgramPresence::kUnknown;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return ProgramPresence::kUnknown;
    // A directory or a file without x is there, just not runnable: the jail's own error says so.
    if (S_ISREG(st.st_mode) && (st.st_mode & 0111)) return ProgramPresence::kPresent;
    return ProgramPresence::kUnknown;
}

// One absolute jail path.
ProgramPresence presenceAt(const fs::path& root, const std::vector<executor::BindMount>& binds,
                           const fs::path& jailPath) {
    const fs::path p = jailPath.lexically_normal();
    // Mounted by the jail itself, not from the root: only the jail can tell.
    for (const char* dir : {"/tmp", "/proc", "/dev", "/sys"}) {
        const auto rel = p.lexically_relative(dir);
        if (!rel.empty() && *rel.begin() != "..") return ProgramPresence::kUnknown;
    }
    const executor::BindMount* best = nullptr;
    size_t bestLen = 0;
    for (const auto& b : binds) {
        const auto rel = p.lexically_relative(b.jail);
        if (rel.empty() || *rel.begin() == "..") continue;
        const size_t len = b.jail.lexically_normal().string().size();
        if (!best || len > bestLen) best = &b, bestLen = len;
    }
    if (best) return presenceBelow(best->host, p.lexically_relative(best->jail).string(), false);
    return presenceBelow(root, p.relative_path().string(), true);
}

// Watches a step's output for the shell's "not found" lines, passing every byte on unchanged.
class NotFoundScanner {
  public:
    void feed(std::string_view chunk) {
        for (char c : chunk) {
            if (c != '\n') {
                if (line_.size() < 4096) line_.push_back(c);
                continue;
            }
            take();
        }
        if (!chunk.empty()) ended_with_newline_ = chunk.back() == '\n';
    }
    std::vector<std::string> finish() {
        take();
        return names_;
    }
    bool endedWithNewline() const { return ended_with_newline_; }

  private:
    void take() {
        auto name = programNotFoundIn(line_);
        line_.clear();
        if (!name.empty() && names_.size() < 5 && std::find(names_.begin(), names_.end(), name) == names_.end())
            names_.push_back(std::move(name));
    }
    std::string line_;
    std::vector<std::string> names_;
    bool ended_with_newline_ = true;
};

std::string pathOf(const std::vector<std::string>& env) {
    std::string path = "/usr/local/bin:/usr/bin:/bin";  // the jail's execvp default
    for (const auto& e : env) {
        if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
    }
    return path;
}

class ProgramCheckingJail final : public executor::Jail {
  public:
    ProgramCheckingJail(std::unique_ptr<executor::Jail> inner, fs::path root, std::vector<executor::BindMount> binds,
                        std::string note)
        : inner_(std::move(inner)), root_(std::move(root)), binds_(std::move(binds)), note_(std::move(note)) {}

    executor::StepResult run(const executor::StepInvocation& step) override {
        const std::string path = pathOf(step.env);
        if (!step.argv.empty() && findProgram(root_, binds_, path, step.argv[0]) == ProgramPresence::kMissing) {
            executor::StepResult result;
            result.setup_error = missingProgramMessage(fs::path(step.argv[0]).filename().string(), note_);
            return result;
        }
        executor::StepInvocation watched = step;
        NotFoundScanner scanner;
        watched.on_output = [&](std::string_view chunk) {
            scanner.feed(chunk);
            if (step.on_output) step.on_output(chunk);
        };
        auto result = inner_->run(watched);
        const auto names = scanner.finish();
        if (result.succeeded() || !result.setup_error.empty() || !step.on_output) return result;
        bool first = true;
        for (const auto& name : names) {
            if (findProgram(root_, binds_, path, name) != ProgramPresence::kMissing) continue;
            // An error annotation of its own, on a line of its own.
            step.on_output(std::string(first && !scanner.endedWithNewline() ? "\n" : "") + "::error::" +
                           missingProgramMessage(name, note_) + "\n");
            first = false;
        }
        return result;
    }

  private:
    std::unique_ptr<executor::Jail> inner_;
    fs::path root_;
    std::vector<executor::BindMount> binds_;
    std::string note_;
};

}  // namespace

std::string packageProviding(const std::string& program) {
    static const std::map<std::string, std::string> kPackages = [] {
        std::map<std::string, std::string> m;
        auto add = [&](const char* package, std::initializer_list<const char*> programs) {
            for (const char* p : programs) m[p] = package;
        };
        add("coreutils", {"ls", "cat", "cp", "mv", "rm", "mkdir", "rmdir", "mktemp", "date", "head", "tail",
                          "sort", "uniq", "wc", "tr", "cut", "env", "echo", "printf", "tee", "touch", "chmod",
                          "chown", "ln", "readlink", "realpath", "basename", "dirname", "sha256sum", "sha1sum",
                          "md5sum", "seq", "sleep", "stat", "uname", "id", "whoami", "true", "false", "test",
                          "expr", "du", "df", "nproc", "base64", "install", "timeout", "yes", "paste", "join"});
        add("findutils", {"find", "xargs"});
        add("gnugrep", {"grep", "egrep", "fgrep"});
        add("gnused", {"sed"});
        add("gawk", {"awk", "gawk"});
        add("gnutar", {"tar"});
        add("gzip", {"gzip", "gunzip", "zcat"});
        add("xz", {"xz", "unxz", "xzcat"});
        add("bzip2", {"bzip2", "bunzip2"});
        add("diffutils", {"diff", "cmp"});
        add("gnupatch", {"patch"});
        add("gnumake", {"make"});
        add("gcc", {"gcc", "cc", "g++", "c++"});
        add("python3", {"python", "python3"});
        add("python3Packages.pip", {"pip", "pip3"});
        add("nodejs", {"node", "npm", "npx"});
        add("openssh", {"ssh", "scp"});
        add("procps", {"ps", "top", "free"});
        add("jdk", {"java", "javac"});
        add("cargo", {"cargo"});
        add("rustc", {"rustc"});
        return m;
    }();
    auto it = kPackages.find(program);
    return it == kPackages.end() ? program : it->second;
}

std::string missingProgramMessage(const std::string& program, const std::string& note) {
    return program + ": not in this job's root; declare a package that provides it, e.g. " +
           packageProviding(program) + note;
}

std::string programNotFoundIn(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    const auto f = fields(line);
    if (f.size() < 2) return {};
    const std::string_view name = f[f.size() - 2];
    if (!isProgramName(name)) return {};
    if (f.back() == "command not found") return std::string(name);  // bash
    // dash: "<script>: <line>: <name>: not found"; the line number keeps other "not found"s out.
    if (f.back() == "not found" && f.size() >= 3 && isAllDigits(f[f.size() - 3])) return std::string(name);
    return {};
}

ProgramPresence findProgram(const fs::path& root, const std::vector<executor::BindMount>& binds,
                            const std::string& path, const std::string& program) {
    if (program.find('/') != std::string::npos) {
        if (program.front() != '/') return ProgramPresence::kUnknown;  // relative to the step's cwd
        return presenceAt(root, binds, program);
    }
    bool unknown = false;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        const std::string dir = path.substr(start, end - start);
        start = end + 1;
        if (dir.empty() || dir.front() != '/') {
            unknown = true;  // the step's cwd
            continue;
        }
        const auto p = presenceAt(root, binds, fs::path(dir) / program);
        if (p == ProgramPresence::kPresent) return p;
        if (p == ProgramPresence::kUnknown) unknown = true;
    }
    return unknown ? ProgramPresence::kUnknown : ProgramPresence::kMissing;
}

std::unique_ptr<executor::Jail> checkProgramsInRoot(std::unique_ptr<executor::Jail> jail, fs::path root,
                                                    std::vector<executor::BindMount> binds, std::string note) {
    return std::make_unique<ProgramCheckingJail>(std::move(jail), std::move(root), std::move(binds),
                                                 std::move(note));
}

}  // namespace nixjail::runner::engine
