// One process as a step: its command files, its environment, its output, its result.
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
#include "runner/base/detached_tmpfs.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/actions/command_file.h"
#include "runner/actions/jit_failure.h"
#include "runner/engine/step_parts.h"
#include "runner/actions/output_processor.h"
#include "runner/actions/step_command_files.h"

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

// ACTIONS_ALLOW_UNSECURE_COMMANDS as .NET's bool.TryParse reads it: "true" in any case, with
// surrounding whitespace.
bool allowsUnsecureCommands(const std::vector<std::string>& env) {
    std::string v = envValue(env, "ACTIONS_ALLOW_UNSECURE_COMMANDS");
    const auto b = v.find_first_not_of(" \t\r\n"), e = v.find_last_not_of(" \t\r\n");
    v = b == std::string::npos ? "" : v.substr(b, e - b + 1);
    return base::asciiLower(v) == "true";
}

// The step user's uid:gid, when the plan runs steps as another user.
std::optional<std::pair<uid_t, gid_t>> stepOwnerIds(const job::JobPlan& plan) {
    if (!plan.step_owner) return std::nullopt;
    return std::make_pair(plan.step_owner->uid, plan.step_owner->gid);
}

// The most a step's own tmpfs holds: its five command files at the most the runner reads of each,
// and its script. Whatever the step writes there also counts against its memory limit.
constexpr std::uint64_t kStepFilesBytes = 5 * StepCommandFiles::kFileLimit + (64u << 20);

// Where one step's command files and script go. With JobPlan::step_files_in_memory, a tmpfs of
// the step's own, mounted nowhere on the host, that its jail attaches at
// $RUNNER_TEMP/_runner_file_commands: nothing is written to or removed from the host's disk for
// them, and nothing of them outlives the step (a later step cannot read an earlier one's files,
// the runner closes them once it has read them). Otherwise the job's temp directory.
class StepFilesPlace {
  public:
    explicit StepFilesPlace(JobContext& job) : job_(job) {
        if (!job.plan.step_files_in_memory) return;
        // The mount point, in the job's temp directory as on disk (remade if a step removed it).
        base::makeDirectoryIn(job.sandbox->tempFd(), StepCommandFiles::directoryName(),
                              "$RUNNER_TEMP/_runner_file_commands");
        const auto owner = stepOwnerIds(job.plan);
        try {
            tmpfs_.emplace(base::DetachedTmpfs::Options{.size_bytes = kStepFilesBytes,
                                                        .uid = owner ? owner->first : 0,
                                                        .gid = owner ? owner->second : 0,
                                                        .mode = 0755,
                                                        .what = "the step's command files"});
        } catch (const base::SysError& e) {
            // A kernel before 5.2 (no fsopen), or a root without CAP_SYS_ADMIN (a container's
            // seccomp profile): the files go to the job's temp directory, as on other backends.
            if (e.errnoValue() != ENOSYS && e.errnoValue() != EPERM) throw;
            job.log(LineKind::kDebug, std::string("step files on disk: ") + e.what());
        }
    }

    StepCommandFiles commandFiles(const std::string& id) const {
        if (!tmpfs_) return StepCommandFiles(job_.sandbox->tempFd(), job_.dirs().temp.jail, id, stepOwnerIds(job_.plan));
        return StepCommandFiles(rootFd(), job_.dirs().temp.jail, id, stepOwnerIds(job_.plan));
    }

    fs::path write(const std::string& name, const std::string& content, const std::string& what) const {
        if (!tmpfs_) {
            job_.sandbox->writeTempFile(name, content, what);
            return job_.dirs().temp.jail / name;
        }
        base::writeStepFile(rootFd().get(), name, 0644, content, what);
        return job_.dirs().temp.jail / StepCommandFiles::directoryName() / name;
    }

    std::optional<executor::StepFilesMount> mount() const {
        if (!tmpfs_) return std::nullopt;
        return executor::StepFilesMount{.mount_fd = tmpfs_->fd(),
                                        .jail = job_.dirs().temp.jail / StepCommandFiles::directoryName()};
    }

  private:
    // The tmpfs's root as a plain directory fd (its own fd is an O_PATH one).
    base::UniqueFd rootFd() const {
        base::UniqueFd fd(::openat(tmpfs_->fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd) throw base::SysError("opening the step's tmpfs of command files");
        return fd;
    }

    JobContext& job_;
    std::optional<base::DetachedTmpfs> tmpfs_;
};

}  // namespace

std::string envValue(const std::vector<std::string>& env, const std::string& key) {
    for (const auto& kv : env) {
        if (kv.compare(0, key.size() + 1, key + "=") == 0) return kv.substr(key.size() + 1);
    }
    return "";
}


std::vector<std::string> StepProcess::environment(
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
    if (const JobRoot* root = job_.sandbox->root()) {
        basePath = root->binPath();
    } else if (job_.plan.jail_paths) {
        basePath = joinPath(job_.opts.base_path);
    } else {
        const char* p = std::getenv("PATH");
        basePath = p ? p : joinPath(job_.opts.base_path);
    }
    set("PATH", basePath);
    set("HOME", job_.dirs().home.jail.string());
    set("LANG", "C.UTF-8");
    if (const char* term = std::getenv("TERM"); term && job_.plan.pass_terminal) set("TERM", term);
    set("CI", "true");  // GitHub documents that a workflow may override CI
    set("GITHUB_ACTIONS", "true");
    for (const auto& [k, v] : job_.state.env) set(k, v);
    for (const auto& [k, v] : stepEnv) set(k, v);
    // The variables the runner derives from the github and runner contexts come after the
    // workflow's env, as in GitHub's runner: workflow, job and step env cannot override them.
    set("GITHUB_WORKSPACE", job_.dirs().workspace.jail.string());
    set("GITHUB_EVENT_NAME", job_.opts.event_name);
    set("GITHUB_EVENT_PATH", (job_.dirs().temp.jail / "event.json").string());
    set("GITHUB_JOB", job_.instance.job->id);
    set("GITHUB_RUN_ID", job_.opts.run_id);
    set("GITHUB_RUN_NUMBER", job_.opts.run_number);
    set("GITHUB_RUN_ATTEMPT", "1");
    set("GITHUB_RETENTION_DAYS", "90");
    set("GITHUB_WORKFLOW", job_.state.github.value("workflow", ""));
    const std::pair<const char*, const char*> fromGithub[] = {
        {"GITHUB_REPOSITORY", "repository"}, {"GITHUB_REPOSITORY_OWNER", "repository_owner"},
        {"GITHUB_SHA", "sha"},               {"GITHUB_REF", "ref"},
        {"GITHUB_REF_NAME", "ref_name"},     {"GITHUB_REF_TYPE", "ref_type"},
        {"GITHUB_ACTOR", "actor"},           {"GITHUB_TRIGGERING_ACTOR", "triggering_actor"},
        {"GITHUB_SERVER_URL", "server_url"}, {"GITHUB_API_URL", "api_url"},
        {"GITHUB_GRAPHQL_URL", "graphql_url"}, {"GITHUB_HEAD_REF", "head_ref"},
        {"GITHUB_BASE_REF", "base_ref"}};
    for (const auto& [var, key] : fromGithub) {
        const auto& v = job_.state.github[key];
        set(var, v.is_string() ? v.get<std::string>() : "");
    }
    set("RUNNER_OS", "Linux");
    set("RUNNER_ARCH", "X64");
    set("RUNNER_NAME", "nixjail-runner");
    set("RUNNER_ENVIRONMENT", "self-hosted");
    set("RUNNER_TEMP", job_.dirs().temp.jail.string());
    set("RUNNER_TOOL_CACHE", job_.dirs().tool_cache.jail.string());
    set("RUNNER_WORKSPACE", job_.dirs().workspace.jail.parent_path().string());
    if (!job_.state.path_prepend.empty()) {
        std::string path;
        for (const auto& p : vars) {
            if (p.first == "PATH") path = p.second;
        }
        std::vector<std::string> parts(job_.state.path_prepend.begin(), job_.state.path_prepend.end());
        if (!path.empty()) parts.push_back(path);
        set("PATH", joinPath(parts));
    }
    // The job's proxy and its CA, last: the proxy is the only way out whatever the workflow sets.
    if (const auto* network = job_.sandbox->network()) {
        for (const auto& [k, v] : network->environment()) set(k, v);
    }
    std::vector<std::string> out;
    out.reserve(vars.size());
    for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
    return out;
}

bool StepProcess::run(const workflow::Step& step, const StepScope& scope, StepRecord& rec,
                        const std::vector<std::pair<std::string, std::string>>& stepEnv,
                        const std::filesystem::path& cwdJail,
                        const std::optional<std::chrono::milliseconds>& timeout, KeyValues* state,
                        const MakeArgv& makeArgv) {
    // One fresh set of command files per step, read back below through the directory fd they
    // were made in: the step may replace any of them with a link to a host file.
    // The names runStep gave the step (github.env and github.path show them), once; a second
    // process of the same step gets files of its own.
    const std::string id =
        !job_.state.step_files_id.empty() && job_.state.step_files_id != job_.state.step_files_used ? job_.state.step_files_id : uniqueName();
    job_.state.step_files_used = id;
    const StepFilesPlace place(job_);
    const StepCommandFiles files = place.commandFiles(id);
    std::vector<std::pair<std::string, std::string>> env = stepEnv;
    for (auto& kv : files.variables()) env.push_back(std::move(kv));
    env.emplace_back("GITHUB_ACTION", step.id.empty() ? "__run_" + std::to_string(rec.index) : step.id);
    if (!scope.action_path.empty()) {
        env.emplace_back("GITHUB_ACTION_PATH", scope.action_path.string());
        env.emplace_back("GITHUB_ACTION_REPOSITORY", scope.action_repository);
    }
    auto processEnv = environment(env);

    const auto argv = makeArgv(processEnv, id, [&](const std::string& name, const std::string& content,
                                                   const std::string& what) { return place.write(name, content, what); });
    // `python` may only exist as python3 on the host; the shell line names what Actions names.
    job_.log(LineKind::kDebug, "shell: " + [&] {
        std::string s;
        for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
        return s;
    }());

    OutputProcessor out(job_.masker, job_.observer, allowsUnsecureCommands(processEnv));
    executor::StepInvocation inv;
    inv.argv = argv;
    inv.env = processEnv;
    inv.cwd = cwdJail;
    inv.timeout = timeout;
    inv.cancel = job_.stop.get_token();
    inv.files_mount = place.mount();
    JitFailureScanner jit;
    const bool forbidsJit = job_.plan.jitless_node;
    inv.on_output = [&](std::string_view chunk) {
        if (forbidsJit) jit.feed(chunk);
        out.feed(chunk);
    };
    auto result = job_.sandbox->jail().run(inv);
    out.finish();
    job_.status.last_process = StepProcessView{processEnv, cwdJail, std::to_string(rec.index) + ": " + rec.name};
    if (!result.succeeded()) job_.status.failed_process = job_.status.last_process;
    rec.exit_code = result.exit_code;
    if (result.setup_error.empty()) {
        rec.cpu_time = rec.cpu_time.value_or(std::chrono::milliseconds{0}) + result.cpu_time;
        rec.peak_memory_bytes =
            std::max(rec.peak_memory_bytes.value_or(0), result.peak_memory_bytes);
    }

    if (!result.setup_error.empty()) {
        rec.error = "the step could not start: " + result.setup_error;
    } else if (result.cancelled) {
        job_.status.cancelled = true;
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
                    job_.sandbox->diskQuotaNote();
    }
    if (!rec.error.empty()) job_.log(LineKind::kError, rec.error);
    if (!rec.error.empty() && jit.found()) job_.log(LineKind::kError, jitFailureNote());

    auto readKv = [&](CommandFileKind kind) -> KeyValues {
        auto r = parseKeyValueFile(files.read(kind), StepCommandFiles::variableName(kind));
        if (!r) throw base::Error(r.error());
        return *r;
    };
    if (!out.commandError().empty() && rec.error.empty()) rec.error = out.commandError();
    for (const auto& [k, v] : out.legacyOutputs()) rec.outputs[k] = v;
    for (const auto& [k, v] : out.legacyEnv()) {
        std::erase_if(job_.state.env, [&](const auto& kv) { return kv.first == k; });
        job_.state.env.emplace_back(k, v);
    }
    for (const auto& p : out.legacyPath()) job_.state.path_prepend.insert(job_.state.path_prepend.begin(), p);
    for (const auto& [k, v] : readKv(CommandFileKind::kOutput)) rec.outputs[k] = v;
    for (const auto& [k, v] : readKv(CommandFileKind::kEnv)) {
        std::erase_if(job_.state.env, [&](const auto& kv) { return kv.first == k; });
        job_.state.env.emplace_back(k, v);
    }
    for (const auto& p : parsePathFile(files.read(CommandFileKind::kPath))) {
        job_.state.path_prepend.insert(job_.state.path_prepend.begin(), p);
    }
    // GITHUB_STATE matters for pre/post steps of actions (node_action_step.cc), not `run:` steps.
    if (state) *state = out.legacyState();
    for (auto& kv : readKv(CommandFileKind::kState)) {
        if (state) state->push_back(std::move(kv));
    }
    try {
        job_.state.summary += files.read(CommandFileKind::kSummary);
    } catch (const base::StepFileTooLarge& e) {
        // GitHub drops an oversized summary with an error and keeps the step's result.
        job_.log(LineKind::kError, fmt::format("$GITHUB_STEP_SUMMARY upload aborted, supports content up "
                                          "to a size of {}k, got at least {}k.",
                                          e.limit() >> 10, e.size() >> 10));
    }
    return result.succeeded() && !result.oom_killed && result.term_signal == 0 &&
           out.commandError().empty();
}

}  // namespace nixjail::runner::engine
