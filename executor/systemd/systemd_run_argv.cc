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

namespace {

std::string safeName(const std::string& text, size_t max) {
    std::string safe;
    for (char c : text) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        safe.push_back(ok ? c : '_');
        if (safe.size() == max) break;
    }
    return safe;
}

// An instance tag never contains "--", so "<instance>--" cannot be a prefix of another tag.
std::string safeInstance(const std::string& instance) {
    std::string tag = safeName(instance, 32);
    for (auto& c : tag)
        if (c == '-') c = '_';
    return tag;
}

}  // namespace

std::string unitName(const std::string& instance, const std::string& job_id, int step,
                     const std::string& nonce) {
    std::string safe = safeName(job_id, 64);
    if (safe.empty()) safe = "job";
    const std::string prefix =
        instance.empty() ? "nixjail-" : "nixjail-" + safeInstance(instance) + "--";
    return prefix + safe + "-" + std::to_string(step) + "-" + nonce + ".service";
}

std::string unitPattern(const std::string& instance) {
    return "nixjail-" + safeInstance(instance) + "--*.service";
}

}  // namespace nixjail::executor::sysd
