// Running the jail's self-check program in a job's jail and judging what it says.
#include "runner/engine/jail_self_check.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "runner/base/beneath.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/unique_fd.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {

constexpr const char* kProgramName = ".nixjail-jail-check";
constexpr const char* kInsideChecks[] = {"capabilities", "no_new_privs", "seccomp", "network", "store"};

// The program as a hard link where the job's temp directory is on its filesystem: nothing is
// written (copying its 0.8 MB was about 1 ms of every job's start), and no file is ever open for
// writing while another job's jail may be cloned (ETXTBSY). The link names the installed program,
// which the jail's ids cannot write; nothing of the job runs before the check, and the name goes
// right after it. Elsewhere (another filesystem, a job volume), a copy.
void placeProgram(const fs::path& program, int temp_fd) {
    if (::linkat(AT_FDCWD, program.c_str(), temp_fd, kProgramName, AT_SYMLINK_FOLLOW) == 0) return;
    base::UniqueFd in(::open(program.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) {
        throw base::SysError("the jail self-check program '" + program.string() +
                                 "' cannot be opened; it is installed beside nixjail-runner "
                                 "(reinstall the runner, or build the nixjail-jail-check target)",
                             errno);
    }
    auto out = base::createStepFile(temp_fd, kProgramName, 0755, "the jail self-check program");
    base::copyFileData(in.get(), out.get(), program);
}

}  // namespace

bool JailCheckReport::passed() const {
    for (const auto& c : checks) {
        if (!c.passed) return false;
    }
    return !checks.empty();
}

std::string JailCheckReport::failures() const {
    std::string out;
    for (const auto& c : checks) {
        if (!c.passed) out += (out.empty() ? "" : "; ") + c.name + " (" + c.detail + ")";
    }
    return out;
}

fs::path defaultJailCheckProgram() {
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path("nixjail-jail-check") : self.parent_path() / "nixjail-jail-check";
}

std::string jailCheckProgramName() { return kProgramName; }

void placeJailCheckProgram(const JailCheckRequest& request) { placeProgram(request.program, request.temp_fd); }

void removeJailCheckProgram(const JailCheckRequest& request) { ::unlinkat(request.temp_fd, kProgramName, 0); }

JailCheckReport judgeJailCheck(std::string_view output, const JailCheckEnd& end,
                               const std::optional<executor::AppliedLimits>& applied,
                               const JailCheckRequest& request) {
    JailCheckReport report;
    auto seen = executor::parseChecks(output);
    for (const char* name : kInsideChecks) {
        auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& c) { return c.name == name; });
        if (it != seen.end()) {
            report.checks.push_back(*it);
            continue;
        }
        std::string why = !end.setup_error.empty() ? "the jail could not start it: " + end.setup_error
                          : end.timed_out          ? "it did not finish within 30 s"
                          : end.cancelled          ? "the job was cancelled"
                                                   : "it exited with status " + std::to_string(end.exit_code) +
                                                (end.term_signal ? " (signal " + std::to_string(end.term_signal) + ")" : "") +
                                                " without a verdict";
        report.checks.push_back({.name = name, .passed = false, .detail = "not checked: " + why});
    }
    if (applied) {
        report.checks.push_back(executor::judgeLimits(*applied, request.limits.memory_max_bytes, request.limits.pids_max));
    } else {
        report.checks.push_back({.name = "cgroup",
                                 .passed = true,
                                 .detail = "not reported by the " + request.backend +
                                           " executor, which applies the limits itself"});
    }
    return report;
}

std::string jailCheckRefusal(const JailCheckReport& report, const std::string& backend) {
    return "the jail's self-check failed, so no step ran: " + report.failures() + ". The " + backend +
           " executor could not keep its promises on this machine; fix the kernel or configuration that "
           "weakens it, or run the job with another executor";
}

JailCheckReport checkJail(executor::Jail& jail, const JailCheckRequest& request, std::stop_token cancel) {
    const auto start = std::chrono::steady_clock::now();
    placeProgram(request.program, request.temp_fd);
    std::string output;
    executor::StepInvocation step;
    step.argv = {(request.temp_jail / kProgramName).string()};
    step.env = {"PATH=/nonexistent"};
    step.cwd = request.temp_jail;
    step.timeout = std::chrono::seconds(30);
    step.cancel = cancel;
    step.on_output = [&](std::string_view s) {
        if (output.size() < 64 * 1024) output.append(s);
    };
    executor::StepResult result;
    try {
        result = jail.run(step);
    } catch (...) {
        ::unlinkat(request.temp_fd, kProgramName, 0);
        throw;
    }
    ::unlinkat(request.temp_fd, kProgramName, 0);

    JailCheckReport report = judgeJailCheck(output, jailCheckEnd(result), result.applied_limits, request);
    report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return report;
}

}  // namespace nixjail::runner::engine
