// Builds the systemd-run argv for a step.
#include "executor/systemd/systemd_run_argv.h"

#include "runner/base/error.h"

namespace nixjail::executor::sysd {

std::string escapeDollars(const std::string& arg) {
    std::string out;
    out.reserve(arg.size());
    for (char c : arg) {
        out.push_back(c);
        if (c == '$') out.push_back('$');
    }
    return out;
}

std::vector<std::string> systemdRunArgv(const SystemdRunInputs& in) {
    std::vector<std::string> argv = {in.systemd_run,
                                     "--system",
                                     "--unit=" + in.unit,
                                     "--wait",
                                     "--pipe",
                                     "--collect",
                                     "--quiet",
                                     "--no-ask-password",
                                     // '-': systemd does not fail the result recorder, which runs
                                     // outside the root where the directory is missing; the
                                     // jail checks that it exists for the step itself.
                                     "--property=WorkingDirectory=-" +
                                         (in.cwd.empty() ? std::string("/") : in.cwd)};
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
    if (in.argv.empty()) return argv;
    // systemd expands $VAR, ${VAR} and $$ in a unit's command arguments (splitting a lone $VAR
    // into words); "$$" is its literal '$', so the step gets exactly its argv. The program path
    // is not expanded and stays as it is.
    argv.push_back(in.argv.front());
    for (size_t i = 1; i < in.argv.size(); ++i) argv.push_back(escapeDollars(in.argv[i]));
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
