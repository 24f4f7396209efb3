// Creating, limiting, measuring and removing the jail's cgroups on v1 and v2.
#include "executor/namespace/cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <optional>
#include <sstream>
#include <thread>

#include "executor/jail_check/jail_promises.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace nixjail::executor::ns {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

void writeKnob(const fs::path& dir, const char* knob, const std::string& value) {
    try {
        base::writeFile(dir / knob, value);
    } catch (const base::SysError& e) {
        throw base::SysError("setting cgroup '" + (dir / knob).string() + "' to '" + value + "'",
                             e.errnoValue());
    }
}

std::string readKnob(const fs::path& dir, const char* knob) {
    std::error_code ec;
    if (!fs::exists(dir / knob, ec)) return {};
    try {
        return base::readFile(dir / knob);
    } catch (const base::Error&) {
        return {};
    }
}

// "key value" lines, as in memory.events, memory.oom_control and cpu.stat.
std::uint64_t keyedValue(const std::string& text, const std::string& key) {
    std::istringstream in(text);
    std::string k;
    std::uint64_t v;
    while (in >> k >> v) {
        if (k == key) return v;
    }
    return 0;
}

std::uint64_t number(const std::string& text) {
    try {
        return std::stoull(text);
    } catch (const std::exception&) {
        return 0;
    }
}

// In the text of a /proc/PID/cgroup, the cgroup's path in the hierarchy that has `controller`
// ("" for v2's unified one), or nullopt when no hierarchy has it.
std::optional<fs::path> cgroupIn(const std::string& proc_cgroup, const std::string& controller) {
    std::istringstream in(proc_cgroup);
    std::string line;
    while (std::getline(in, line)) {
        auto a = line.find(':');
        auto b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        std::string ctrls = line.substr(a + 1, b - a - 1);
        std::string path = line.substr(b + 1);
        if (controller.empty() ? ctrls.empty() && line.substr(0, a) == "0" : false) return path;
        std::istringstream cs(ctrls);
        std::string c;
        while (std::getline(cs, c, ',')) {
            if (c == controller) return path;
        }
    }
    return std::nullopt;
}

// Path of this process's cgroup in the hierarchy that has `controller` ("" for v2).
fs::path ownCgroup(const std::string& controller) {
    return cgroupIn(base::readFile("/proc/self/cgroup"), controller).value_or("/");
}

// A limit knob's value (parseCgroupLimit); nullopt too when the knob cannot be read.
std::optional<std::uint64_t> limitValue(const fs::path& dir, const char* knob) {
    return parseCgroupLimit(readKnob(dir, knob));
}

}  // namespace

AppliedLimits limitsOfProcess(pid_t pid) {
    AppliedLimits out;
    const std::string text = base::readFile("/proc/" + std::to_string(pid) + "/cgroup");
    const auto memory_v1 = cgroupIn(text, "memory"), pids_v1 = cgroupIn(text, "pids");
    // v1 hierarchies are mounted by controller name (a hybrid host's unified one has none).
    const fs::path root = kCgroupRoot;
    if (memory_v1 || pids_v1) {
        if (memory_v1) {
            out.memory_max_bytes =
                limitValue(root / "memory" / memory_v1->relative_path(), "memory.limit_in_bytes");
        }
        if (pids_v1) out.pids_max = limitValue(root / "pids" / pids_v1->relative_path(), "pids.max");
    } else if (const auto unified = cgroupIn(text, "")) {
        out.memory_max_bytes = limitValue(root / unified->relative_path(), "memory.max");
        out.pids_max = limitValue(root / unified->relative_path(), "pids.max");
    }
    return out;
}

fs::path v2JobParent(const fs::path& own) {
    // systemd's DelegateSubgroup=supervisor (the NixOS module sets it) runs the service in a
    // leaf below its delegated cgroup; jobs go beside it, since v2 forbids enabling controllers
    // on a cgroup that holds processes.
    if (own.filename() == "supervisor" && own.has_parent_path() && own != own.root_path()) return own.parent_path();
    return own;
}

namespace {

std::string randomSuffix() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    const char* chars = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s;
    for (int i = 0; i < 6; ++i) s += chars[rng() % 36];
    return s;
}

void makeDir(const fs::path& dir) {
    if (::mkdir(dir.c_str(), 0755) != 0)
        throw base::SysError("creating cgroup '" + dir.string() + "'");
}

// rmdir of a cgroup whose last task just exited can race the kernel's bookkeeping; retry briefly.
bool removeDir(const fs::path& dir, int* err) {
    for (int attempt = 0; attempt < 50; ++attempt) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
        *err = errno;
        if (errno != EBUSY) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

void killProcsIn(const fs::path& dir) {
    std::istringstream in(readKnob(dir, "cgroup.procs"));
    pid_t pid;
    while (in >> pid) ::kill(pid, SIGKILL);
}

// Depth-first removal of a leftover cgroup tree, killing what still runs in it.
void removeTree(const fs::path& dir, bool v2) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.is_directory(ec)) removeTree(e.path(), v2);
    }
    if (v2 && fs::exists(dir / "cgroup.kill", ec)) {
        try {
            writeKnob(dir, "cgroup.kill", "1");
        } catch (const base::Error&) {
        }
    }
    killProcsIn(dir);
    int err = 0;
    if (!removeDir(dir, &err)) {
        spdlog::warn("removing leftover cgroup '{}' failed, ignoring: {}", dir.string(),
                     std::strerror(err));
    }
}

}  // namespace

CgroupLayout CgroupLayout::detect() {
    CgroupLayout layout;
    struct statfs st;
    if (::statfs(kCgroupRoot, &st) != 0)
        throw base::SysError(std::string("statfs '") + kCgroupRoot + "'");
    if (st.f_type == CGROUP2_SUPER_MAGIC) {
        layout.v2 = true;
        layout.hierarchies.push_back({"", fs::path(kCgroupRoot) / v2JobParent(ownCgroup("")).relative_path()});
        return layout;
    }
    std::vector<fs::path> seen;
    for (const char* ctrl : {"memory", "pids", "cpu", "cpuacct"}) {
        fs::path mount = fs::path(kCgroupRoot) / ctrl;
        std::error_code ec;
        auto canon = fs::canonical(mount, ec);
        if (ec) {
            if (std::string(ctrl) == "memory" || std::string(ctrl) == "pids") {
                throw base::Error(std::string("cgroup v1 controller '") + ctrl +
                                  "' is not mounted at '" + mount.string() +
                                  "'; the jail needs it for limits");
            }
            continue;
        }
        if (std::find(seen.begin(), seen.end(), canon) != seen.end()) continue;
        seen.push_back(canon);
        layout.hierarchies.push_back({ctrl, canon / ownCgroup(ctrl).relative_path()});
    }
    return layout;
}

std::string cgroupSafeName(const std::string& job_id) {
    std::string out;
    for (char c : job_id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        out += ok ? c : '_';
        if (out.size() >= 40) break;
    }
    if (out.empty() || out[0] == '.') out.insert(0, "job");
    return out;
}

JobCgroup::JobCgroup(const CgroupLayout& layout, const std::string& job_id) : v2_(layout.v2) {
    std::string name = std::string(kCgroupPrefix) + cgroupSafeName(job_id) + "-" + ownerTag() + "-" + randomSuffix();
    try {
        for (const auto& h : layout.hierarchies) {
            if (v2_) {
                // Controllers must be enabled on the way down; the runner's own cgroup then may not
                // hold processes itself (v2 "no internal processes"), so EBUSY gets advice.
                try {
                    writeKnob(h.parent, "cgroup.subtree_control", "+memory +pids +cpu");
                } catch (const base::SysError& e) {
                    throw base::Error(
                        std::string(e.what()) +
                        "; run the runner in a leaf cgroup of a delegated subtree "
                        "(systemd Delegate=yes) so its parent can enable controllers");
                }
            }
            makeDir(h.parent / name);
            dirs_.push_back(h.parent / name);
            if (v2_) writeKnob(dirs_.back(), "cgroup.subtree_control", "+memory +pids +cpu");
        }
    } catch (...) {
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) ::rmdir(it->c_str());
        throw;
    }
}

JobCgroup::~JobCgroup() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
        int err = 0;
        if (!removeDir(*it, &err)) {
            spdlog::warn("removing cgroup '{}' failed, ignoring: {}", it->string(),
                         std::strerror(err));
        }
    }
}

StepCgroup JobCgroup::createStep(const Limits& limits, int index) const {
    StepCgroup step;
    step.v2_ = v2_;
    std::string name = "step-" + std::to_string(index);
    for (const auto& job : dirs_) {
        makeDir(job / name);
        step.dirs_.push_back(job / name);
    }
    auto pct = static_cast<long long>(limits.cpu_quota * 100000);
    for (const auto& dir : step.dirs_) {
        std::error_code ec;
        auto has = [&](const char* knob) { return fs::exists(dir / knob, ec); };
        if (v2_) {
            writeKnob(dir, "memory.max", std::to_string(limits.memory_max_bytes));
            if (has("memory.swap.max")) writeKnob(dir, "memory.swap.max", "0");
            writeKnob(dir, "pids.max", std::to_string(limits.pids_max));
            if (pct > 0) writeKnob(dir, "cpu.max", std::to_string(pct) + " 100000");
            step.dir_fd_.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            if (!step.dir_fd_) throw base::SysError("opening the step cgroup '" + dir.string() + "'");
            continue;
        }
        if (has("memory.limit_in_bytes")) {
            writeKnob(dir, "memory.limit_in_bytes", std::to_string(limits.memory_max_bytes));
            // Without this the limit only bounds RAM and the bomb fills swap instead.
            if (has("memory.memsw.limit_in_bytes")) {
                writeKnob(dir, "memory.memsw.limit_in_bytes",
                          std::to_string(limits.memory_max_bytes));
            }
        }
        if (has("pids.max")) writeKnob(dir, "pids.max", std::to_string(limits.pids_max));
        if (pct > 0 && has("cpu.cfs_quota_us")) {
            writeKnob(dir, "cpu.cfs_period_us", "100000");
            writeKnob(dir, "cpu.cfs_quota_us", std::to_string(pct));
        }
    }
    return step;
}

StepCgroup::StepCgroup(StepCgroup&& o) noexcept
    : v2_(o.v2_), dirs_(std::exchange(o.dirs_, {})), dir_fd_(std::move(o.dir_fd_)) {}

StepCgroup& StepCgroup::operator=(StepCgroup&& o) noexcept {
    if (this != &o) {
        try {
            remove();
        } catch (const base::Error&) {
        }
        v2_ = o.v2_;
        dirs_ = std::exchange(o.dirs_, {});
        dir_fd_ = std::move(o.dir_fd_);
    }
    return *this;
}

StepCgroup::~StepCgroup() {
    try {
        remove();
    } catch (const base::Error& e) {
        spdlog::warn("{}, ignoring", e.what());
    }
}

void StepCgroup::addProcess(pid_t pid) const {
    for (const auto& dir : dirs_) writeKnob(dir, "cgroup.procs", std::to_string(pid));
}

std::vector<base::UniqueFd> StepCgroup::openTasksFiles() const {
    std::vector<base::UniqueFd> out;
    if (v2_) return out;
    for (const auto& dir : dirs_) {
        base::UniqueFd fd(::open((dir / "tasks").c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd) throw base::SysError("opening '" + (dir / "tasks").string() + "' for a step to join");
        out.push_back(std::move(fd));
    }
    return out;
}

void StepCgroup::killAll() const {
    for (const auto& dir : dirs_) {
        if (v2_) {
            writeKnob(dir, "cgroup.kill", "1");
        } else {
            killProcsIn(dir);
        }
    }
}

StepUsage StepCgroup::usage() const {
    StepUsage u;
    for (const auto& dir : dirs_) {
        if (v2_) {
            u.peak_memory_bytes = number(readKnob(dir, "memory.peak"));
            u.oom_killed = keyedValue(readKnob(dir, "memory.events"), "oom_kill") > 0;
            auto stat = readKnob(dir, "cpu.stat");
            if (!stat.empty()) {
                u.cpu = std::chrono::milliseconds(keyedValue(stat, "usage_usec") / 1000);
                u.cpu_known = true;
            }
            continue;
        }
        auto peak = readKnob(dir, "memory.max_usage_in_bytes");
        if (!peak.empty()) u.peak_memory_bytes = number(peak);
        auto oom = readKnob(dir, "memory.oom_control");
        if (!oom.empty()) u.oom_killed = keyedValue(oom, "oom_kill") > 0;
        auto cpu = readKnob(dir, "cpuacct.usage");
        if (!cpu.empty()) {
            u.cpu = std::chrono::milliseconds(number(cpu) / 1000000);
            u.cpu_known = true;
        }
    }
    return u;
}

void StepCgroup::remove() {
    dir_fd_.reset();
    std::string failures;
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
        int err = 0;
        if (!removeDir(*it, &err)) failures += " '" + it->string() + "': " + std::strerror(err);
    }
    dirs_.clear();
    if (!failures.empty()) throw base::Error("removing step cgroups failed:" + failures);
}

std::string ownerTag() { return "p" + std::to_string(::getpid()); }

bool ownedByLiveProcess(const std::string& name) {
    if (name.size() < 10) return false;
    const std::string head = name.substr(0, name.size() - 7);  // drop "-XXXXXX"
    if (name[name.size() - 7] != '-') return false;
    const auto dash = head.rfind("-p");
    if (dash == std::string::npos || dash + 2 >= head.size()) return false;
    const std::string digits = head.substr(dash + 2);
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) return false;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

int sweepCgroups(const CgroupLayout& layout, const std::string& prefix) {
    int removed = 0;
    for (const auto& h : layout.hierarchies) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(h.parent, ec)) {
            const std::string name = e.path().filename().string();
            if (!e.is_directory(ec) || name.rfind(prefix, 0) != 0 || ownedByLiveProcess(name)) continue;
            removeTree(e.path(), layout.v2);
            ++removed;
        }
    }
    return removed;
}

}  // namespace nixjail::executor::ns
