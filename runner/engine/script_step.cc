// `run:` steps: the script file, the shell, the environment, and the command files afterwards.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <random>

#include "runner/base/ascii.h"
#include "runner/base/beneath.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/actions/command_file.h"
#include "runner/actions/jit_failure.h"
#include "runner/engine/job_run.h"
#include "runner/actions/output_processor.h"
#include "runner/actions/step_command_files.h"
#include "runner/workflow/shell_command.h"

namespace nixjail::runner::engine {

std::string uniqueName() {
    static std::atomic<unsigned> counter{0};
    std::random_device rd;
    return fmt::format("{:08x}{:04x}", rd(), counter++ & 0xffff);
}

namespace {

namespace fs = std::filesystem;

std::string joinPath(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += ':';
        out += p;
    }
    return out;
}

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

std::string lookup(const std::vector<std::string>& env, const std::string& key) {
    for (const auto& kv : env) {
        if (kv.compare(0, key.size() + 1, key + "=") == 0) return kv.substr(key.size() + 1);
    }
    return "";
}

// ACTIONS_ALLOW_UNSECURE_COMMANDS as .NET's bool.TryParse reads it: "true" in any case, with
// surrounding whitespace.
bool allowsUnsecureCommands(const std::vector<std::string>& env) {
    std::string v = lookup(env, "ACTIONS_ALLOW_UNSECURE_COMMANDS");
    const auto b = v.find_first_not_of(" \t\r\n"), e = v.find_last_not_of(" \t\r\n");
    v = b == std::string::npos ? "" : v.substr(b, e - b + 1);
    return base::asciiLower(v) == "true";
}

}  // namespace

std::vector<std::string> JobRun::processEnvironment(
    const std::vector<std::pair<std::string, std::string>>& stepEnv) const {
    std::vector<std::pair<std::string, std::string>> vars;
    auto set = [&](const std::string& k, const std::string& v) {
        for (auto& kv : vars) {
            if (kv.first == k) {
                kv.second = v;
                return;
            }
        }
        vars.emplace_back(k, v);
    };
    std::string basePath;
    if (const JobRoot* root = sandbox_->root()) {
        basePath = root->binPath();
    } else if (plan_.jail_paths) {
        basePath = joinPath(opts_.base_path);
    } else {
        const char* p = std::getenv("PATH");
        basePath = p ? p : joinPath(opts_.base_path);
    }
    set("PATH", basePath);
    set("HOME", dirs_.home.jail.string());
    set("LANG", "C.UTF-8");
    if (const char* term = std::getenv("TERM"); term && plan_.pass_terminal) set("TERM", term);
    set("CI", "true");  // GitHub documents that a workflow may override CI
    set("GITHUB_ACTIONS", "true");
    for (const auto& [k, v] : env_) set(k, v);
    for (const auto& [k, v] : stepEnv) set(k, v);
    // The variables the runner derives from the github and runner contexts come after the
    // workflow's env, as in GitHub's runner: workflow, job and step env cannot override them.
    set("GITHUB_WORKSPACE", dirs_.workspace.jail.string());
    set("GITHUB_EVENT_NAME", opts_.event_name);
    set("GITHUB_EVENT_PATH", (dirs_.temp.jail / "event.json").string());
    set("GITHUB_JOB", instance_.job->id);
    set("GITHUB_RUN_ID", opts_.run_id);
    set("GITHUB_RUN_NUMBER", opts_.run_number);
    set("GITHUB_RUN_ATTEMPT", "1");
    set("GITHUB_RETENTION_DAYS", "90");
    set("GITHUB_WORKFLOW", github_.value("workflow", ""));
    const std::pair<const char*, const char*> fromGithub[] = {
        {"GITHUB_REPOSITORY", "repository"}, {"GITHUB_REPOSITORY_OWNER", "repository_owner"},
        {"GITHUB_SHA", "sha"},               {"GITHUB_REF", "ref"},
        {"GITHUB_REF_NAME", "ref_name"},     {"GITHUB_REF_TYPE", "ref_type"},
        {"GITHUB_ACTOR", "actor"},           {"GITHUB_TRIGGERING_ACTOR", "triggering_actor"},
        {"GITHUB_SERVER_URL", "server_url"}, {"GITHUB_API_URL", "api_url"},
        {"GITHUB_GRAPHQL_URL", "graphql_url"}, {"GITHUB_HEAD_REF", "head_ref"},
        {"GITHUB_BASE_REF", "base_ref"}};
    for (const auto& [var, key] : fromGithub) {
        const auto& v = github_[key];
        set(var, v.is_string() ? v.get<std::string>() : "");
    }
    set("RUNNER_OS", "Linux");
    set("RUNNER_ARCH", "X64");
    set("RUNNER_NAME", "nixjail-runner");
    set("RUNNER_ENVIRONMENT", "self-hosted");
    set("RUNNER_TEMP", dirs_.temp.jail.string());
    set("RUNNER_TOOL_CACHE", dirs_.tool_cache.jail.string());
    set("RUNNER_WORKSPACE", dirs_.workspace.jail.parent_path().string());
    if (!path_prepend_.empty()) {
        std::string path;
        for (const auto& p : vars) {
            if (p.first == "PATH") path = p.second;
        }
        std::vector<std::string> parts(path_prepend_.begin(), path_prepend_.end());
        if (!path.empty()) parts.push_back(path);
        set("PATH", joinPath(parts));
    }
    // The job's proxy and its CA, last: the proxy is the only way out whatever the workflow sets.
    if (const auto* network = sandbox_->network()) {
        for (const auto& [k, v] : network->environment()) set(k, v);
    }
    std::vector<std::string> out;
    out.reserve(vars.size());
    for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
    return out;
}

bool JobRun::runScript(const workflow::Step& step, StepScope& scope, StepRecord& rec,
                       const std::vector<std::pair<std::string, std::string>>& stepEnv,
                       const std::optional<std::chrono::milliseconds>& timeout) {
    const auto& job = *instance_.job;
    const auto& wf = *instance_.workflow;
    std::string script = evalString(step.run, &scope, "the script of step '" + rec.name + "'");

    std::string shell = step.shell;
    if (shell.empty() && job.defaults.shell) shell = *job.defaults.shell;
    if (shell.empty() && wf.defaults.shell) shell = *wf.defaults.shell;
    shell = evalString(shell, &scope, "shell");
    if (auto err = workflow::shellTemplateError(shell); !shell.empty() && !err.empty()) {
        throw base::Error(err);
    }

    std::string workdir = step.working_directory;
    if (workdir.empty() && job.defaults.working_directory) workdir = *job.defaults.working_directory;
    if (workdir.empty() && wf.defaults.working_directory) workdir = *wf.defaults.working_directory;
    workdir = evalString(workdir, &scope, "working-directory");
    fs::path cwdJail = dirs_.workspace.jail;
    if (!workdir.empty()) {
        const fs::path w(workdir);
        cwdJail = w.is_absolute() ? w : dirs_.workspace.jail / w;
        if (!workingDirectoryMayExist(w)) {
            throw base::Error("working-directory '" + workdir + "' does not exist in the workspace");
        }
    }

    return runProcess(step, scope, rec, stepEnv, cwdJail, timeout, nullptr,
                      [&](const std::vector<std::string>& processEnv, const std::string& id) {
                          const bool bash = bashOnPath(lookup(processEnv, "PATH"));
                          const auto suffix = workflow::scriptSuffix(shell, bash);
                          const std::string scriptName = id + suffix;
                          sandbox_->writeTempFile(scriptName, script, "the step's script");
                          auto cmd = workflow::shellCommand(shell, bash, (dirs_.temp.jail / scriptName).string());
                          return cmd.argv;
                      });
}

bool JobRun::workingDirectoryMayExist(const fs::path& dir) const {
    if (plan_.judge_paths_on_host) {
        // The host executor protects nothing (README): its steps see the host as it is.
        return fs::is_directory(dir.is_absolute() ? dir : dirs_.workspace.host / dir);
    }
    const auto rel = base::normalizedBeneath(dir);
    if (!rel) return true;  // absolute or climbing out: a jail path only the jail can judge
    const auto ws = base::openDirectoryNoFollow(dirs_.workspace.host, "the job's workspace");
    const auto fd = base::openBeneath(ws.get(), rel->string(), O_PATH | O_DIRECTORY, true);
    if (fd) return true;
    return errno != ENOENT && errno != ENOTDIR;  // a link leaving the workspace: the jail decides
}

bool JobRun::runProcess(const workflow::Step& step, const StepScope& scope, StepRecord& rec,
                        const std::vector<std::pair<std::string, std::string>>& stepEnv,
                        const std::filesystem::path& cwdJail,
                        const std::optional<std::chrono::milliseconds>& timeout, KeyValues* state,
                        const std::function<std::vector<std::string>(const std::vector<std::string>& processEnv,
                                                                     const std::string& id)>& makeArgv) {
    // One fresh set of command files per step, read back below through the directory fd they
    // were made in: the step may replace any of them with a link to a host file.
    // The names runStep gave the step (github.env and github.path show them), once; a second
    // process of the same step gets files of its own.
    const std::string id =
        !step_files_id_.empty() && step_files_id_ != step_files_used_ ? step_files_id_ : uniqueName();
    step_files_used_ = id;
    const StepCommandFiles files(sandbox_->tempFd(), dirs_.temp.jail, id, sandbox_->stepOwnerIds());
    std::vector<std::pair<std::string, std::string>> env = stepEnv;
    for (auto& kv : files.variables()) env.push_back(std::move(kv));
    env.emplace_back("GITHUB_ACTION", step.id.empty() ? "__run_" + std::to_string(rec.index) : step.id);
    if (!scope.action_path.empty()) {
        env.emplace_back("GITHUB_ACTION_PATH", scope.action_path.string());
        env.emplace_back("GITHUB_ACTION_REPOSITORY", scope.action_repository);
    }
    auto processEnv = processEnvironment(env);

    const auto argv = makeArgv(processEnv, id);
    // `python` may only exist as python3 on the host; the shell line names what Actions names.
    log(LineKind::kDebug, "shell: " + [&] {
        std::string s;
        for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
        return s;
    }());

    OutputProcessor out(masker_, observer_, allowsUnsecureCommands(processEnv));
    executor::StepInvocation inv;
    inv.argv = argv;
    inv.env = processEnv;
    inv.cwd = cwdJail;
    inv.timeout = timeout;
    inv.cancel = job_stop_.get_token();
    JitFailureScanner jit;
    const bool forbidsJit = jitless();
    inv.on_output = [&](std::string_view chunk) {
        if (forbidsJit) jit.feed(chunk);
        out.feed(chunk);
    };
    auto result = sandbox_->jail().run(inv);
    out.finish();
    rec.exit_code = result.exit_code;
    if (result.setup_error.empty()) {
        rec.cpu_time = rec.cpu_time.value_or(std::chrono::milliseconds{0}) + result.cpu_time;
        rec.peak_memory_bytes =
            std::max(rec.peak_memory_bytes.value_or(0), result.peak_memory_bytes);
    }

    if (!result.setup_error.empty()) {
        rec.error = "the step could not start: " + result.setup_error;
    } else if (result.cancelled) {
        cancelled_ = true;
        rec.error = "the step was cancelled";
    } else if (result.timed_out) {
        rec.timed_out = true;
        rec.error = "the step exceeded its time limit and was killed";
    } else if (result.oom_killed) {
        rec.error = "the step ran out of memory and was killed";
    } else if (result.term_signal != 0) {
        rec.error = fmt::format("the step was killed by signal {}", result.term_signal);
    } else if (result.exit_code != 0) {
        rec.error = fmt::format("Process completed with exit code {}.", result.exit_code) +
                    sandbox_->diskQuotaNote();
    }
    if (!rec.error.empty()) log(LineKind::kError, rec.error);
    if (!rec.error.empty() && jit.found()) log(LineKind::kError, jitFailureNote());

    auto readKv = [&](CommandFileKind kind) -> KeyValues {
        auto r = parseKeyValueFile(files.read(kind), StepCommandFiles::variableName(kind));
        if (!r) throw base::Error(r.error());
        return *r;
    };
    if (!out.commandError().empty() && rec.error.empty()) rec.error = out.commandError();
    for (const auto& [k, v] : out.legacyOutputs()) rec.outputs[k] = v;
    for (const auto& [k, v] : out.legacyEnv()) {
        std::erase_if(env_, [&](const auto& kv) { return kv.first == k; });
        env_.emplace_back(k, v);
    }
    for (const auto& p : out.legacyPath()) path_prepend_.insert(path_prepend_.begin(), p);
    for (const auto& [k, v] : readKv(CommandFileKind::kOutput)) rec.outputs[k] = v;
    for (const auto& [k, v] : readKv(CommandFileKind::kEnv)) {
        std::erase_if(env_, [&](const auto& kv) { return kv.first == k; });
        env_.emplace_back(k, v);
    }
    for (const auto& p : parsePathFile(files.read(CommandFileKind::kPath))) {
        path_prepend_.insert(path_prepend_.begin(), p);
    }
    // GITHUB_STATE matters for pre/post steps of actions (node_action_step.cc), not `run:` steps.
    if (state) *state = out.legacyState();
    for (auto& kv : readKv(CommandFileKind::kState)) {
        if (state) state->push_back(std::move(kv));
    }
    try {
        summary_ += files.read(CommandFileKind::kSummary);
    } catch (const base::StepFileTooLarge& e) {
        // GitHub drops an oversized summary with an error and keeps the step's result.
        log(LineKind::kError, fmt::format("$GITHUB_STEP_SUMMARY upload aborted, supports content up "
                                          "to a size of {}k, got at least {}k.",
                                          e.limit() >> 10, e.size() >> 10));
    }
    return result.succeeded() && !result.oom_killed && result.term_signal == 0 &&
           out.commandError().empty();
}

}  // namespace nixjail::runner::engine
