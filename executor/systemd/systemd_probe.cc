// Is systemd the service manager here? The same test as sd_booted(), plus PID 1's name, because
// a container may carry the host's /run/systemd/system without systemd inside.
#include <fstream>
#include <string>

#include "executor/systemd/systemd_executor.h"

namespace nixjail::executor {

bool systemdIsPid1(const std::filesystem::path& proc_root, const std::filesystem::path& run_root) {
    std::error_code ec;
    if (!std::filesystem::is_directory(run_root / "systemd" / "system", ec)) return false;
    std::ifstream comm(proc_root / "1" / "comm");
    std::string name;
    std::getline(comm, name);
    return name == "systemd";
}

}  // namespace nixjail::executor
