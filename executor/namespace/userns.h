// User namespace id mapping: who the step runs as inside the jail and which host ids back it.
#pragma once

#include <sys/types.h>

#include <string>

namespace nixjail::executor::ns {

inline constexpr uid_t kJailUid = 1000;
inline constexpr gid_t kJailGid = 1000;
// A root runner maps the jail's ids 0..65535 onto this otherwise unused host range.
inline constexpr uid_t kDefaultHostIdBase = 0x70000000;
inline constexpr uid_t kHostIdRangeSize = 65536;

struct IdMapPlan {
    std::string uid_map;  // content for /proc/<pid>/uid_map
    std::string gid_map;
    bool deny_setgroups = false;  // required before an unprivileged gid_map write
    bool setup_as_root = false;   // jail uid 0 is mapped, so setup runs as it and then drops
    uid_t step_host_uid = 0;      // the host uid of files the step creates in writable binds
    gid_t step_host_gid = 0;
};

// Pure: root maps a dedicated range; anyone else can map only their own ids.
IdMapPlan planIdMaps(bool runner_is_root, uid_t runner_uid, gid_t runner_gid,
                     uid_t host_id_base = kDefaultHostIdBase);

// Parent side: writes setgroups/uid_map/gid_map of `pid`. Throws SysError naming the file.
void writeIdMaps(pid_t pid, const IdMapPlan& plan);

// Child side, async-signal-safe: set real, effective and saved ids (and clear supplementary
// groups when drop_groups) for this thread only.
int setJailIds(bool drop_groups, uid_t uid, gid_t gid);
// Child side, async-signal-safe: become kJailUid/kJailGid with no supplementary groups.
int switchToJailUser(const IdMapPlan& plan);

}  // namespace nixjail::executor::ns
