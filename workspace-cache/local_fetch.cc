// Local fetches through the git CLI: a clean environment, git's local transport, errors that show
// what git said.
#include "workspace-cache/local_fetch.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "runner/base/error.h"
#include "runner/base/find_program.h"
#include "workspace-cache/command_output.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

// The last `n` non-empty lines of `text` on one line: "; " between them, a space before one that
// carries on a sentence (git wraps its hints: "Please make sure ...\nand the repository exists.").
std::string lastLines(const std::string& text, size_t n) {
    std::vector<std::string> lines = outputLines(text);
    std::string out;
    for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
        if (!out.empty()) out += std::islower(static_cast<unsigned char>(lines[i][0])) ? " " : "; ";
        out += lines[i];
    }
    return out.empty() ? "(no output)" : out;
}

}  // namespace

bool isLocalRemote(const std::string& url) {
    return url.starts_with("file://") || url.starts_with("/");
}

std::optional<fs::path> findGitProgram() {
    const char* path = std::getenv("PATH");
    fs::path git = base::findProgram("git", path ? path : "/usr/bin:/bin");
    if (git.empty()) return std::nullopt;
    return git;
}

void fetchWithGitCli(const fs::path& git, const std::string& url, const fs::path& mirror,
                     const std::vector<std::string>& refspecs) {
    // runCommand appends to the runner's environment and getenv() takes the first match, so the
    // settings go through env(1), which replaces them; the unset variables would point git at
    // another repository or slip config in.
    std::vector<std::string> argv = {"/usr/bin/env"};
    for (const char* name : {"GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY",
                             "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_CONFIG",
                             "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT"})
        argv.insert(argv.end(), {"-u", name});
    argv.insert(argv.end(), {"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
                             "HOME=/nonexistent", "GIT_TERMINAL_PROMPT=0"});
    argv.insert(argv.end(),
                {git.string(), "--git-dir=" + mirror.string(), "-c", "protocol.file.allow=always"});
    // No background gc or maintenance: it would repack the mirror after we release its lock,
    // under a checkout or a prune.
    argv.insert(argv.end(), {"-c", "gc.auto=0", "-c", "maintenance.auto=false"});
    // Keep every fetch as a pack, as libgit2 does, rather than small ones as loose objects.
    argv.insert(argv.end(), {"-c", "fetch.unpackLimit=1"});
    argv.insert(argv.end(), {"fetch", "--quiet", "--prune", "--no-tags", "--no-write-fetch-head",
                             "--no-show-forced-updates", "--", url});
    argv.insert(argv.end(), refspecs.begin(), refspecs.end());
    CommandOutput r = runCommand(argv, {});
    if (r.exit_code != 0)
        throw base::Error("cannot fetch '" + url + "' into '" + mirror.string() +
                          "': git fetch exited with " + std::to_string(r.exit_code) + ": " +
                          lastLines(r.err, 5) +
                          "; is it the path of a git repository the runner can read?");
}

}  // namespace nixjail::cache
