// NamespaceExecutor: validates a JailSpec and acquires the job's resources (plans, cgroup; the
// staging dir is the executor's); the steps themselves run in namespace_jail.cc.
#include "executor/namespace/namespace_executor.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/namespace/caps.h"
#include "executor/namespace/cgroup.h"
#include "executor/namespace/jail_setup_error.h"
#include "executor/namespace/namespace_jail.h"
#include "executor/namespace/seccomp_filters.h"
#include "runner/base/error.h"

namespace nixjail::executor {

namespace fs = std::filesystem;
using namespace ns;

namespace {

constexpr const char* kStagingPrefix = "nixjail-stage-";

fs::path stagingParent(const NamespaceOptions& o) {
    if (!o.staging_parent.empty()) return o.staging_parent;
    const char* tmp = std::getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

IdMapPlan idMaps(const NamespaceOptions& o) {
    return planIdMaps(::geteuid() == 0, ::geteuid(), ::getegid(), o.host_id_base);
}

std::vector<PlannedBind> planBinds(const JailSpec& spec) {
    std::vector<PlannedBind> out;
    for (const auto& b : spec.binds) {
        std::error_code ec;
        auto host = fs::canonical(b.host, ec);
        if (ec) {
            throw JailSetupError(
                SetupPhase::kMounts, ec.value(),
                "bind source '" + b.host.string() + "' for '" + b.jail.string() + "'");
        }
        out.push_back({.host = host,
                       .jail = b.jail.lexically_normal(),
                       .writable = b.writable,
                       .is_directory = fs::is_directory(host, ec)});
    }
    return out;
}

}  // namespace

NamespaceExecutor::NamespaceExecutor(NamespaceOptions options)
    : options_(std::move(options)), seccomp_filters_(std::make_unique<SeccompFilters>()) {
    if (!options_.logger) options_.logger = spdlog::default_logger();
}

NamespaceExecutor::~NamespaceExecutor() = default;

std::shared_ptr<const base::TempDir> NamespaceExecutor::staging() {
    std::lock_guard lock(staging_mutex_);
    if (!staging_) {
        auto made = std::make_shared<const base::TempDir>(kStagingPrefix + ownerTag() + "-",
                                                          stagingParent(options_));
        // mkdtemp made it 0700 for the runner; the jails' set-up runs as another host id.
        if (::chmod(made->path().c_str(), 0755) != 0) {
            throw base::SysError("making staging directory '" + made->path().string() + "' reachable");
        }
        staging_ = std::move(made);
    }
    return staging_;
}

BackendTraits namespaceTraits(const NamespaceOptions& options, uid_t euid, gid_t egid) {
    const IdMapPlan ids = planIdMaps(euid == 0, euid, egid, options.host_id_base);
    return {.remaps_paths = true,
            .needs_root = true,
            .network = BackendTraits::Network::kOwnNamespace,
            .step_owner = StepOwner{ids.step_host_uid, ids.step_host_gid},
            .attaches_stdio = true,
            .runs_preludes = true,
            .overlays_root = true,
            // A tmpfs made by fsopen needs CAP_SYS_ADMIN where the runner runs.
            .mounts_detached = euid == 0};
}

uid_t NamespaceExecutor::stepHostUid() const { return idMaps(options_).step_host_uid; }
gid_t NamespaceExecutor::stepHostGid() const { return idMaps(options_).step_host_gid; }

std::unique_ptr<Jail> NamespaceExecutor::prepare(const JailSpec& spec) {
    std::error_code ec;
    auto root = fs::canonical(spec.root, ec);
    if (ec || !fs::is_directory(root, ec)) {
        throw JailSetupError(SetupPhase::kMounts, ec ? ec.value() : ENOTDIR,
                             "jail root '" + spec.root.string() + "' for job " + spec.job_id);
    }
    const auto staging = this->staging();
    JailPlan plan;
    try {
        // A quarter of the memory limit each for /tmp and /dev/shm (tmpfs pages count against the
        // memory cgroup): a full /tmp is ENOSPC, not an OOM kill. Big scratch space belongs in a
        // disk-backed bind (runner temp).
        plan.mounts = planMounts({.root = root,
                                  .staging = staging->path(),
                                  .binds = planBinds(spec),
                                  .tmpfs_size_bytes = spec.limits.memory_max_bytes / 4});
        plan.ids = idMaps(options_);
        auto rules = planSeccompRules(spec.profile);
        for (const auto& w : rules.weakenings)
            options_.logger->info("weakened: {} job={}", w, spec.job_id);
        plan.seccomp = seccomp_filters_->get(spec.profile);
    } catch (const JailSetupError&) {
        throw;
    } catch (const base::Error& e) {
        throw JailSetupError(
            SetupPhase::kNone, 0,
            std::string("planning the jail for job ") + spec.job_id + ": " + e.what());
    }
    plan.hostname = spec.hostname;
    plan.cap_last_cap = readCapLastCap();
    plan.new_netns = spec.netns_fd < 0;
    plan.nofile = static_cast<rlim_t>(spec.limits.nofile_max);
    plan.runner_strings = readProcessStrings();
    std::optional<JobCgroup> cgroup;
    try {
        cgroup.emplace(CgroupLayout::detect(), spec.job_id);
    } catch (const base::SysError& e) {
        throw JailSetupError(SetupPhase::kNone, e.errnoValue(),
                             std::string("cgroup for job ") + spec.job_id + ": " + e.what() +
                                 (::geteuid() != 0 ? "; run as root or delegate a cgroup" : ""));
    } catch (const base::Error& e) {
        throw JailSetupError(SetupPhase::kNone, 0,
                             std::string("cgroup for job ") + spec.job_id + ": " + e.what());
    }
    return std::make_unique<NamespaceJail>(spec, staging, std::move(plan),
                                           std::move(*cgroup), options_.logger,
                                           options_.cancel_grace);
}

SweepReport sweepLeftovers(const NamespaceOptions& options) {
    SweepReport report;
    report.cgroups = sweepCgroups(CgroupLayout::detect());
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(stagingParent(options), ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(kStagingPrefix, 0) != 0 || ownedByLiveProcess(name)) continue;
        std::error_code rm;
        fs::remove_all(e.path(), rm);
        if (rm) {
            spdlog::warn("removing leftover staging dir '{}' failed, ignoring: {}",
                         e.path().string(), rm.message());
        } else {
            ++report.staging_dirs;
        }
    }
    return report;
}

}  // namespace nixjail::executor
