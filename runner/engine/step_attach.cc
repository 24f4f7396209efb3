// A command attached to the caller's terminal in the job's jail, as the failed step saw it.
#include <sys/stat.h>

#include <sstream>

#include "runner/base/error.h"
#include "runner/engine/step_parts.h"

namespace nixjail::runner::engine {

namespace {

namespace fs = std::filesystem;

// bash if the step's PATH finds it in the job's root (the host's / without one), else sh.
std::vector<std::string> interactiveShell(const std::vector<std::string>& env, const fs::path& root,
                                          bool terminal) {
    std::string path = envValue(env, "PATH");
    if (path.empty()) path = "/usr/bin:/bin";
    for (const char* shell : {"bash", "sh"}) {
        std::istringstream dirs(path);
        std::string dir;
        while (std::getline(dirs, dir, ':')) {
            if (dir.empty() || dir[0] != '/') continue;
            // A root's programs are links into its store: their own presence is enough here.
            struct stat st {};
            const fs::path inRoot = (root.empty() ? fs::path("/") : root) / fs::path(dir).relative_path() / shell;
            if (::lstat(inRoot.c_str(), &st) != 0) continue;
            std::vector<std::string> argv{(fs::path(dir) / shell).string()};
            if (terminal) argv.push_back("-i");
            return argv;
        }
    }
    throw base::Error("neither bash nor sh is on the step's PATH (" + path +
                      ") in the job's root; name a program to run instead");
}

}  // namespace

executor::StepResult StepProcess::attach(const std::vector<std::string>& argv,
                                         const executor::StepStdio& stdio,
                                         std::stop_token cancel) const {
    if (!job_.sandbox || !job_.sandbox->hasJail()) throw base::Error("the job has no jail left to run a shell in");
    const auto& seen = job_.status.failed_process ? job_.status.failed_process : job_.status.last_process;
    executor::StepInvocation inv;
    if (seen) {
        inv.env = seen->env;
        inv.cwd = seen->cwd;
    } else {
        inv.env = environment({});
        inv.cwd = job_.dirs().workspace.jail;
    }
    if (stdio.terminal) {
        std::erase_if(inv.env, [](const std::string& kv) { return kv.rfind("PS1=", 0) == 0; });
        inv.env.push_back("PS1=[nixjail " + job_.instance.job->id + "] \\w\\$ ");
        if (envValue(inv.env, "TERM").empty()) {
            const char* term = std::getenv("TERM");
            inv.env.push_back(std::string("TERM=") + (term ? term : "xterm"));
        }
    }
    const fs::path root = job_.sandbox->root() ? job_.sandbox->root()->root() : fs::path();
    inv.argv = argv.empty() ? interactiveShell(inv.env, root, stdio.terminal) : argv;
    inv.stdio = stdio;
    inv.cancel = std::move(cancel);
    return job_.sandbox->jail().run(inv);
}

}  // namespace nixjail::runner::engine
