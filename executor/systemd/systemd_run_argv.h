// The `systemd-run` command line of one step, built in pure code (golden-tested).
#pragma once

#include <string>
#include <vector>

#include "executor/executor.h"

namespace nixjail::executor::sysd {

struct SystemdRunInputs {
    std::string systemd_run = "systemd-run";
    std::string unit;                     // from unitName()
    std::vector<std::string> properties;  // from planUnitProperties()
    std::vector<std::string> env;         // KEY=VALUE, exactly what the step sees
    std::string cwd;                      // inside the jail
    std::vector<std::string> argv;        // argv[0] already absolute (inside the jail)
};

// `systemd-run --wait --pipe --collect ...`: the caller gives it /dev/null as stdin and the step's
// output pipe as stdout and stderr. Throws base::Error for an environment entry without '='.
std::vector<std::string> systemdRunArgv(const SystemdRunInputs& in);

// "nixjail-<job>-<step>-<nonce>.service", with the job id reduced to [A-Za-z0-9_-] (max 64).
// "nixjail-<instance>--<job>-<step>-<nonce>.service" ("nixjail-<job>-..." without an instance),
// every part reduced to characters a unit name allows.
std::string unitName(const std::string& instance, const std::string& job_id, int step,
                     const std::string& nonce);
// The glob matching every unit of `instance`: "nixjail-<instance>--*.service".
std::string unitPattern(const std::string& instance);

}  // namespace nixjail::executor::sysd
