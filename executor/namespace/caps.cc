// Capabilities: the step keeps none, in any set, and cannot regain them (no_new_privs follows).
#include "executor/namespace/caps.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "runner/base/file_io.h"

namespace nixjail::executor::ns {

int dropBoundingAndAmbient(int cap_last_cap) {
    for (int cap = 0; cap <= cap_last_cap; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return errno;
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return errno;
    return 0;
}

int clearCapabilitySets() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    return ::syscall(SYS_capset, &header, data) == 0 ? 0 : errno;
}

int readCapLastCap() {
    try {
        return std::stoi(base::readFile("/proc/sys/kernel/cap_last_cap"));
    } catch (const std::exception&) {
        // Older kernels lack the file; the compiled-in value is then at least as large.
        return CAP_LAST_CAP;
    }
}

}  // namespace nixjail::executor::ns
