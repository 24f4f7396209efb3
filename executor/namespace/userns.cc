// Id maps for the jail's user namespace and the child's switch to the unprivileged jail user.
#include "executor/namespace/userns.h"

#include <grp.h>
#include <unistd.h>

#include <cerrno>

#include "runner/base/file_io.h"

namespace nixjail::executor::ns {

IdMapPlan planIdMaps(bool runner_is_root, uid_t runner_uid, gid_t runner_gid, uid_t host_id_base) {
    IdMapPlan plan;
    if (runner_is_root) {
        auto range = std::to_string(host_id_base) + " " + std::to_string(kHostIdRangeSize) + "\n";
        plan.uid_map = "0 " + range;
        plan.gid_map = "0 " + range;
        plan.setup_as_root = true;
        plan.step_host_uid = host_id_base + kJailUid;
        plan.step_host_gid = host_id_base + kJailGid;
    } else {
        plan.uid_map = std::to_string(kJailUid) + " " + std::to_string(runner_uid) + " 1\n";
        plan.gid_map = std::to_string(kJailGid) + " " + std::to_string(runner_gid) + " 1\n";
        plan.deny_setgroups = true;
        plan.step_host_uid = runner_uid;
        plan.step_host_gid = runner_gid;
    }
    return plan;
}

void writeIdMaps(pid_t pid, const IdMapPlan& plan) {
    auto proc = "/proc/" + std::to_string(pid) + "/";
    if (plan.deny_setgroups) base::writeFile(proc + "setgroups", "deny");
    base::writeFile(proc + "uid_map", plan.uid_map);
    base::writeFile(proc + "gid_map", plan.gid_map);
}

int switchToJailUser(const IdMapPlan& plan) {
    if (!plan.deny_setgroups && ::setgroups(0, nullptr) != 0) return errno;
    if (::setresgid(kJailGid, kJailGid, kJailGid) != 0) return errno;
    if (::setresuid(kJailUid, kJailUid, kJailUid) != 0) return errno;
    return 0;
}

}  // namespace nixjail::executor::ns
