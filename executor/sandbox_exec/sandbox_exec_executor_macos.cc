// macOS half of the sandbox-exec backend: each step is `sandbox-exec -p <profile> argv...` in its
// own process group, with the job's profile from sbpl_profile.cc. Plain POSIX (no pidfd on macOS):
// the step supervisor polls the output pipe and reaps with wait4(WNOHANG).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "executor/sandbox_exec/sandbox_exec_executor.h"
#include "executor/sandbox_exec/sbpl_profile.h"
#include "executor/step_supervisor.h"
#include "runner/base/error.h"
#include "runner/base/unique_fd.h"

namespace nixjail::executor {

namespace {

using std::chrono::milliseconds;

class SandboxExecJail : public Jail {
  public:
    SandboxExecJail(JailSpec spec, SandboxExecOptions options, std::string profile)
        : spec_(std::move(spec)), options_(std::move(options)), profile_(std::move(profile)) {}

    StepResult run(const StepInvocation& step) override {
        if (step.stdio) {
            StepResult result;
            result.setup_error = "prepare step: the sandbox-exec executor cannot attach a terminal or the caller's stdio to a step (use the namespace executor)";
            return result;
        }
        if (step.prelude) {
            StepResult result;
            result.setup_error = "prepare step: the sandbox-exec executor runs no prelude before a step (the namespace executor does)";
            return result;
        }
        if (step.files_mount) {
            StepResult result;
            result.setup_error = "prepare step: the sandbox-exec executor cannot attach a detached mount to a step (the namespace executor does)";
            return result;
        }
        if (step.argv.empty()) {
            StepResult result;
            result.setup_error = "prepare step: empty argv";
            return result;
        }
        // Everything the child needs is built before fork: no allocation after it.
        std::vector<std::string> args = {options_.sandbox_exec, "-p", profile_};
        args.insert(args.end(), step.argv.begin(), step.argv.end());
        std::vector<char*> argv, envp;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env = step.env;
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        const std::string cwd = step.cwd.empty() ? "/" : step.cwd.string();

        int out[2];
        if (::pipe(out) != 0) throw base::SysError("creating the output pipe of a step");
        base::UniqueFd outRead(out[0]);
        ::fcntl(out[0], F_SETFD, FD_CLOEXEC);
        const auto start = std::chrono::steady_clock::now();
        pid_t pid = ::fork();
        if (pid < 0) {
            int err = errno;
            ::close(out[1]);
            throw base::SysError("forking sandbox-exec for job " + spec_.job_id, err);
        }
        if (pid == 0) {
            ::setpgid(0, 0);
            int devnull = ::open("/dev/null", O_RDONLY);
            if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(out[1], 1) < 0 ||
                ::dup2(out[1], 2) < 0 || ::chdir(cwd.c_str()) != 0) {
                ::_exit(127);
            }
            ::execve(argv[0], argv.data(), envp.data());
            ::_exit(127);
        }
        ::setpgid(pid, pid);  // also from the parent, so the group exists before any kill
        ::close(out[1]);

        struct rusage usage {};
        StepChild verbs{.output_fd = outRead.get(),
                        .exit_fd = -1,  // no pidfd on macOS: reap() is polled
                        .terminate = [pid] { ::kill(-pid, SIGTERM); },
                        .kill = [pid] { ::kill(-pid, SIGKILL); },
                        .reap = [pid, &usage](bool block) -> std::optional<int> {
                            int status = 0;
                            pid_t w;
                            while ((w = ::wait4(pid, &status, block ? 0 : WNOHANG, &usage)) < 0 &&
                                   errno == EINTR) {
                            }
                            if (w < 0)
                                throw base::SysError("waiting for sandbox-exec (pid " +
                                                     std::to_string(pid) + ")");
                            if (w != pid) return std::nullopt;
                            ::kill(-pid, SIGKILL);  // helpers the step left behind die with it
                            return status;
                        }};
        StepResult result = superviseStep(step, verbs,
                                          {.start = start,
                                           .limit = stepTimeLimit(spec_.limits, step),
                                           .cancel_grace = options_.cancel_grace});
        auto us = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000LL +
                  usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
        result.cpu_time = milliseconds(us / 1000);
        result.peak_memory_bytes = static_cast<std::uint64_t>(usage.ru_maxrss);  // bytes on macOS
        return result;
    }

  private:
    JailSpec spec_;
    SandboxExecOptions options_;
    std::string profile_;
};

class SandboxExecExecutor : public Executor {
  public:
    explicit SandboxExecExecutor(SandboxExecOptions options) : options_(std::move(options)) {}
    std::string name() const override { return "sandbox-exec"; }
    BackendTraits traits() const override { return sandboxExecTraits(); }
    std::unique_ptr<Jail> prepare(const JailSpec& spec) override {
        sbpl::ProfileInputs in;
        if (spec.proxy_port != 0) in.proxy_port = spec.proxy_port;
        for (const auto& b : spec.binds) {
            if (b.host != b.jail) {
                throw base::Error("the sandbox-exec executor cannot remap '" + b.host.string() +
                                  "' to '" + b.jail.string() + "' for job " + spec.job_id +
                                  "; give the step host paths");
            }
            std::error_code ec;
            auto real = std::filesystem::canonical(b.host, ec);  // Seatbelt sees resolved paths
            if (ec) {
                throw base::Error("bind '" + b.host.string() + "' of job " + spec.job_id + ": " +
                                  ec.message());
            }
            (b.writable ? in.writable : in.store_paths).push_back(real);
        }
        return std::make_unique<SandboxExecJail>(spec, options_, sbpl::sbplProfile(in));
    }

  private:
    SandboxExecOptions options_;
};

}  // namespace

std::unique_ptr<Executor> makeSandboxExecExecutor(const SandboxExecOptions& options) {
    if (::access(options.sandbox_exec.c_str(), X_OK) != 0) {
        throw base::SysError("cannot use the sandbox-exec executor: '" + options.sandbox_exec +
                             "' is not executable");
    }
    return std::make_unique<SandboxExecExecutor>(options);
}

}  // namespace nixjail::executor
