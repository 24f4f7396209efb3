// The runner's side of a systemd step: systemd-run --wait blocks until the unit is gone, so the
// loop only streams output and turns deadline and cancellation into `systemctl kill/stop`.
#include "executor/systemd/systemd_jail.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <random>

#include "executor/step_supervisor.h"
#include "executor/systemd/jail_path_lookup.h"
#include "executor/systemd/systemd_run_argv.h"
#include "executor/systemd/unit_properties.h"
#include "executor/systemd/unit_result.h"
#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"

namespace nixjail::executor::sysd {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// systemd's RuntimeMaxSec= stops the unit at the limit; ours only fires if systemd does not.
constexpr milliseconds kDeadlineSlack{2000};
const std::vector<std::string> kToolEnv = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_COLORS=0",
    "SYSTEMD_PAGER="};

std::string nonce() {
    std::random_device rd;
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    return buf;
}

}  // namespace

SystemdJail::SystemdJail(JailSpec spec, SystemdOptions options, base::TempDir state,
                         std::string netns_path)
    : spec_(std::move(spec)),
      options_(std::move(options)),
      state_(std::move(state)),
      netns_path_(std::move(netns_path)) {}

void SystemdJail::systemctl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {options_.systemctl};
    argv.insert(argv.end(), args.begin(), args.end());
    base::UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    try {
        auto child = base::ChildProcess::spawn({.argv = argv,
                                                .env = kToolEnv,
                                                .stdout_fd = devnull.get(),
                                                .stderr_fd = devnull.get()});
        auto st = child.wait();
        if (st.exitCode() != 0) {
            options_.logger->debug("systemctl {} exited {}, ignoring (unit already gone?) job={}",
                                   args.front(), st.exitCode(), spec_.job_id);
        }
    } catch (const base::Error& e) {
        options_.logger->warn("systemctl {} failed, ignoring: {} job={}", args.front(), e.what(),
                              spec_.job_id);
    }
}

StepResult SystemdJail::run(const StepInvocation& step) {
    StepResult result;
    const int n = ++steps_;
    if (step.stdio) {
        // systemd-run --pty would need a unit of its own per shell and a pty in the jail's
        // namespace; not built.
        result.setup_error = "prepare step: the systemd executor cannot attach a terminal or the caller's stdio to a step (use --executor namespace)";
        return result;
    }
    if (step.prelude) {
        // The unit's limits are read back only after it ends: nothing could be judged before
        // the step starts.
        result.setup_error = "prepare step: the systemd executor runs no prelude before a step (the namespace executor does)";
        return result;
    }
    if (step.files_mount) {
        // Its units start in a mount namespace systemd makes: the runner has no point before the
        // step where a detached mount could be attached for that step alone.
        result.setup_error = "prepare step: the systemd executor cannot attach a detached mount to a step (the namespace executor does)";
        return result;
    }
    if (step.argv.empty()) {
        result.setup_error = "prepare step: empty argv";
        return result;
    }
    auto program = lookUpInJail(step.argv[0], step.env, spec_.root, spec_.binds);
    if (!program) {
        result.setup_error = "exec: '" + step.argv[0] + "' not found in the jail's PATH";
        return result;
    }
    {
        // systemd is told not to mind a missing working directory (see systemdRunArgv), so the
        // step's is checked here.
        std::error_code ec;
        const auto cwd = step.cwd.empty() ? std::filesystem::path("/") : step.cwd;
        if (!std::filesystem::is_directory(hostPathOf(cwd, spec_.root, spec_.binds), ec)) {
            result.setup_error = "chdir: the step's working directory '" + cwd.string() +
                                 "' does not exist in the jail";
            return result;
        }
    }
    const auto limit = stepTimeLimit(spec_.limits, step);
    const auto unit = unitName(options_.instance, spec_.job_id, n, nonce());
    const auto resultFile = state_.path() / ("step-" + std::to_string(n) + ".result");
    std::vector<std::string> argv;
    try {
        auto props = planUnitProperties({.root = spec_.root,
                                         .binds = spec_.binds,
                                         .profile = spec_.profile,
                                         .limits = spec_.limits,
                                         .runtime_max = limit,
                                         .stop_timeout = options_.cancel_grace,
                                         .netns_path = netns_path_,
                                         .dynamic_user = options_.dynamic_user,
                                         .uid = options_.step_uid,
                                         .gid = options_.step_gid,
                                         .result_file = resultFile});
        std::vector<std::string> stepArgv = step.argv;
        stepArgv[0] = *program;
        argv = systemdRunArgv({.systemd_run = options_.systemd_run,
                               .unit = unit,
                               .properties = std::move(props.properties),
                               .env = step.env,
                               .cwd = step.cwd.string(),
                               .argv = std::move(stepArgv)});
    } catch (const base::Error& e) {
        result.setup_error = std::string("prepare step: ") + e.what();
        return result;
    }
    options_.logger->debug("step {} runs as unit {} job={}", n, unit, spec_.job_id);
    return runUnit(step, argv, unit, resultFile, limit);
}

StepResult SystemdJail::runUnit(const StepInvocation& step, const std::vector<std::string>& argv,
                                const std::string& unit, const std::filesystem::path& result_file,
                                milliseconds limit) {
    const auto start = Clock::now();
    auto output = base::Pipe::create();
    base::ChildProcess child;
    try {
        child = base::ChildProcess::spawn({.argv = argv,
                                           .env = kToolEnv,
                                           .stdout_fd = output.write.get(),
                                           .stderr_fd = output.write.get()});
    } catch (const base::Error& e) {
        StepResult result;
        result.setup_error = std::string("spawn: ") + e.what();
        return result;
    }
    output.write.reset();

    std::optional<base::ExitStatus> status;
    StepChild verbs{
        .output_fd = output.read.get(),
        .exit_fd = child.pidfd(),
        // Graceful: SIGTERM to the unit's cgroup; systemd sends SIGKILL after TimeoutStopSec=,
        // and so do we if it has not.
        .terminate = [&] { systemctl({"stop", "--no-block", unit}); },
        .kill = [&] { systemctl({"kill", "--signal=SIGKILL", unit}); },
        // systemd-run --wait exits once the unit is gone, and the unit's processes with it.
        .reap = [&](bool block) -> std::optional<int> {
            if (block)
                status = child.wait();
            else
                status = child.tryWait();
            if (!status) return std::nullopt;
            return status->raw;
        }};
    // systemd's RuntimeMaxSec= and TimeoutStopSec= act first; ours fire only if systemd's do not.
    StepResult result = superviseStep(step, verbs,
                                      {.start = start,
                                       .limit = limit + kDeadlineSlack,
                                       .cancel_grace = options_.cancel_grace + kDeadlineSlack});
    // The step's status comes from the unit's result file; systemd-run's own is for the message
    // below only.
    result.exit_code = -1;
    result.term_signal = 0;

    std::error_code ec;
    if (std::filesystem::exists(result_file, ec)) {
        const bool timedOut = result.timed_out;
        applyUnitResult(base::readFile(result_file), result);
        // A cancelled unit that outlived TimeoutStopSec= ends with systemd's result "timeout":
        // that is the end of the cancel's grace period, not the step's time limit.
        result.timed_out = (result.timed_out && !result.cancelled) || timedOut;
        std::filesystem::remove(result_file, ec);
    } else {
        // systemd-run failed before or without the unit running (its message is in the output).
        // Make sure no process of the unit survives.
        systemctl({"kill", "--signal=SIGKILL", unit});
        systemctl({"stop", unit});
        if (!result.timed_out && !result.cancelled) {
            // systemd-run --wait exits with the unit's status: 200..243 is systemd's own setup
            // failing (e.g. 217/USER), whose message only the journal has.
            const int code = status->exitCode();
            if (const char* setup = sysd::setupStatusName(code)) {
                result.setup_error = "systemd could not start the step's unit '" + unit +
                                     "': status " + std::to_string(code) + "/" + setup +
                                     "; `journalctl -u " + unit + "` has systemd's message";
            } else {
                result.setup_error = "systemd-run: exited " + std::to_string(code) +
                                     " without a result from unit '" + unit +
                                     "'; its message is in the step's output";
            }
        }
    }
    options_.logger->debug(
        "step unit {} exited code={} signal={} timed_out={} cancelled={} oom={} "
        "job={} ms={}",
        unit, result.exit_code, result.term_signal, result.timed_out, result.cancelled,
        result.oom_killed, spec_.job_id, result.wall_time.count());
    return result;
}

}  // namespace nixjail::executor::sysd
