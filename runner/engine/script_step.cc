// `run:` steps: the script file, the shell, the working directory.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "runner/base/beneath.h"
#include "runner/base/error.h"
#include "runner/engine/step_parts.h"
#include "runner/workflow/shell_command.h"

namespace nixjail::runner::engine {

namespace {

namespace fs = std::filesystem;

bool bashOnPath(const std::string& path) {
    size_t start = 0;
    while (start <= path.size()) {
        size_t colon = path.find(':', start);
        std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (!dir.empty() && ::access((fs::path(dir) / "bash").c_str(), X_OK) == 0) return true;
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return false;
}

}  // namespace

bool ScriptStep::run(const workflow::Step& step, StepScope& scope, StepRecord& rec,
                       const std::vector<std::pair<std::string, std::string>>& stepEnv,
                       const std::optional<std::chrono::milliseconds>& timeout) {
    const auto& job = *job_.instance.job;
    const auto& wf = *job_.instance.workflow;
    std::string script = job_.parts->contexts.eval(step.run, &scope, "the script of step '" + rec.name + "'");

    std::string shell = step.shell;
    if (shell.empty() && job.defaults.shell) shell = *job.defaults.shell;
    if (shell.empty() && wf.defaults.shell) shell = *wf.defaults.shell;
    shell = job_.parts->contexts.eval(shell, &scope, "shell");
    if (auto err = workflow::shellTemplateError(shell); !shell.empty() && !err.empty()) {
        throw base::Error(err);
    }

    std::string workdir = step.working_directory;
    if (workdir.empty() && job.defaults.working_directory) workdir = *job.defaults.working_directory;
    if (workdir.empty() && wf.defaults.working_directory) workdir = *wf.defaults.working_directory;
    workdir = job_.parts->contexts.eval(workdir, &scope, "working-directory");
    fs::path cwdJail = job_.dirs().workspace.jail;
    if (!workdir.empty()) {
        const fs::path w(workdir);
        cwdJail = w.is_absolute() ? w : job_.dirs().workspace.jail / w;
        if (!workingDirectoryMayExist(w)) {
            throw base::Error("working-directory '" + workdir + "' does not exist in the workspace");
        }
    }

    return job_.parts->process.run(step, scope, rec, stepEnv, cwdJail, timeout, nullptr,
                      [&](const std::vector<std::string>& processEnv, const std::string& id,
                          const StepProcess::WriteStepFile& write) {
                          const bool bash = bashOnPath(envValue(processEnv, "PATH"));
                          const auto suffix = workflow::scriptSuffix(shell, bash);
                          const fs::path scriptJail = write(id + suffix, script, "the step's script");
                          auto cmd = workflow::shellCommand(shell, bash, scriptJail.string());
                          return cmd.argv;
                      });
}

bool ScriptStep::workingDirectoryMayExist(const fs::path& dir) const {
    if (job_.plan.judge_paths_on_host) {
        // The host executor protects nothing (README): its steps see the host as it is.
        return fs::is_directory(dir.is_absolute() ? dir : job_.dirs().workspace.host / dir);
    }
    const auto rel = base::normalizedBeneath(dir);
    if (!rel) return true;  // absolute or climbing out: a jail path only the jail can judge
    const auto ws = base::openDirectoryNoFollow(job_.dirs().workspace.host, "the job's workspace");
    const auto fd = base::openBeneath(ws.get(), rel->string(), O_PATH | O_DIRECTORY, true);
    if (fd) return true;
    return errno != ENOENT && errno != ENOTDIR;  // a link leaving the workspace: the jail decides
}

}  // namespace nixjail::runner::engine
