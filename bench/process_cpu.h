// The CPU time a process has used, read from /proc/<pid>/stat, for benchmarks that compare what
// their peers spend around a burst.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "runner/base/error.h"
#include "runner/base/file_io.h"

namespace nixjail::bench {

struct ProcessCpu {
    double self_s = 0;      // utime + stime
    double children_s = 0;  // cutime + cstime: its children it has reaped
};

inline ProcessCpu processCpu(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    const std::string stat = base::readFile(path);
    // The fields after the parenthesised command name, from field 3 (state) on: utime, stime,
    // cutime and cstime are fields 14 to 17.
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 > stat.size()) throw base::Error("cannot parse " + path);
    const std::string rest = stat.substr(close + 2);
    std::vector<std::string> f;
    for (size_t at = 0, sp; at < rest.size(); at = sp + 1) {
        sp = rest.find(' ', at);
        if (sp == std::string::npos) sp = rest.size();
        f.push_back(rest.substr(at, sp - at));
    }
    if (f.size() < 15) throw base::Error("too few fields in " + path);
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    return {static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) / tick,
            static_cast<double>(std::stoull(f[13]) + std::stoull(f[14])) / tick};
}

}  // namespace nixjail::bench
