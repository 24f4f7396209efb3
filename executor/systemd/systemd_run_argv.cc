// Builds the systemd-run argv for a step.
#include "executor/systemd/systemd_run_argv.h"

#include "runner/base/error.h"

namespace nixjail::executor::sysd {

std::vector<std::string> systemdRunArgv(const SystemdRunInputs& in) {
    std::vector<std::string> argv = {in.systemd_run,
                                     "--system",
                                     "--unit=" + in.unit,
                                     "--wait",
                                     "--pipe",
                                     "--collect",
                                     "--quiet",
                                     "--no-ask-password",
                                     "--working-directory=" + (in.cwd.empty() ? "/" : in.cwd)};
    for (const auto& p : in.properties) argv.push_back("--property=" + p);
    for (const auto& e : in.env) {
        auto eq = e.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw base::Error("environment entry '" + e.substr(0, 64) +
                              "' is not KEY=VALUE; fix the step's env");
        }
        argv.push_back("--setenv=" + e);
    }
    // "--" so that a step's argv can never be read as systemd-run options.
    argv.push_back("--");
    argv.insert(argv.end(), in.argv.begin(), in.argv.end());
    return argv;
}

std::string unitName(const std::string& job_id, int step, const std::string& nonce) {
    std::string safe;
    for (char c : job_id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        safe.push_back(ok ? c : '_');
        if (safe.size() == 64) break;
    }
    if (safe.empty()) safe = "job";
    return "nixjail-" + safe + "-" + std::to_string(step) + "-" + nonce + ".service";
}

}  // namespace nixjail::executor::sysd
