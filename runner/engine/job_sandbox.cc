// A job's resources, phase by phase, and their release in reverse.
#include "runner/engine/job_sandbox.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "runner/base/beneath.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/engine/missing_program.h"
#include "workspace-cache/root_cache.h"

namespace nixjail::runner::engine {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The root's default trust store, for tools that ignore the CA variables, is the proxy's CA: bound
// over the root's empty bundle (root_layout.cc), read-only, so nothing of the job is written into
// its root. A symlinked directory on the way would lead out of the root (even to the host's
// /etc): skipped, the CA is then only in the variables.
bool rootTakesCaBundle(const JobRoot& root) {
    const fs::path r = root.root();
    for (const fs::path& p : {r / "etc", r / "etc/ssl", r / "etc/ssl/certs"}) {
        if (!fs::is_directory(fs::symlink_status(p))) return false;
    }
    return fs::is_regular_file(fs::symlink_status(r / cache::kCaBundlePath));
}

}  // namespace

JobSandbox::JobSandbox(const job::JobPlan& plan, const fs::path& work_dir, Note note)
    : plan_(plan), note_(std::move(note)), dir_("nixjail-job-", work_dir) {
    fs::path writable = dir_.path();
    if (const auto quota = plan_.disk_volume_bytes; quota > 0) {
        volume_ = std::make_unique<cache::JobVolume>(dir_.path() / "volume.img",
                                                     dir_.path() / "volume", quota);
        writable = volume_->path();
        note_(LineKind::kRunner, "Disk: the workspace, home and temp directories are on the job's own " +
                         std::to_string(quota >> 20) + " MiB volume (its disk quota)");
    }
    const auto& jail = plan_.jail_paths;
    auto make = [&](const fs::path& parent, const char* name, fs::path job::JobPaths::*jailPath) {
        fs::path host = parent / name;
        fs::create_directories(host);
        return JobPath{host, jail ? (*jail).*jailPath : host};
    };
    dirs_.workspace = make(writable, "workspace", &job::JobPaths::workspace);
    dirs_.temp = make(writable, "temp", &job::JobPaths::temp);
    dirs_.home = make(writable, "home", &job::JobPaths::home);
    dirs_.tool_cache = make(writable, "tool_cache", &job::JobPaths::tool_cache);
    dirs_.actions = make(dir_.path(), "actions", &job::JobPaths::actions);  // the runner's, read-only
    temp_fd_ = base::openDirectoryNoFollow(dirs_.temp.host, "the job's temp directory");
}

JobSandbox::~JobSandbox() {
    try {
        close();
    } catch (const std::exception& e) {
        note_(LineKind::kWarning, std::string("closing the job's jail and network: ") + e.what());
    }
}

void JobSandbox::writeTempFile(const std::string& name, const std::string& content,
                               const std::string& what) const {
    base::writeStepFile(temp_fd_.get(), name, 0644, content, what);
}

void JobSandbox::adopt(const fs::path& path, bool recursive) const {
    const auto& owner = plan_.step_owner;
    if (!owner) return;
    auto chownOne = [&](const fs::path& p) {
        if (::lchown(p.c_str(), owner->uid, owner->gid) != 0) {
            throw base::SysError("handing '" + p.string() + "' to the jail's user");
        }
    };
    chownOne(path);
    if (recursive && fs::is_directory(fs::symlink_status(path))) {
        for (const auto& e : fs::recursive_directory_iterator(path)) chownOne(e.path());
    }
}

std::string JobSandbox::diskQuotaNote() const {
    if (!volume_) return {};
    try {
        // Full, give or take the last partial block the step could not write.
        if (volume_->usage().available_bytes >= (1u << 20)) return {};
    } catch (const std::exception&) {
        return {};
    }
    return " The job's disk quota (" + std::to_string(volume_->sizeBytes() >> 20) + " MiB) is full.";
}

void JobSandbox::makeRoot(const RootProvider& provider, const RootRequest& request) {
    if (!provider) {
        throw base::Error("the '" + plan_.backend + "' executor needs a root built from Nix packages; "
                          "give a nixpkgs (--nixpkgs) and packages (--packages or NIXJAIL_PACKAGES)");
    }
    root_ = provider(request, dir_.path() / "root");
}

void JobSandbox::makeNetwork(const network::NetworkSettings& settings, const std::string& job_id,
                             std::vector<std::string> forge_hosts, base::UniqueFd netns) {
    const auto start = Clock::now();
    const fs::path hostDir = dir_.path() / "network";
    // Steps see the CA at a fixed place when paths are remapped, else where the runner put it.
    const fs::path jailDir = plan_.jail_paths ? fs::path("/runner/network") : hostDir;
    network_ = std::make_unique<network::JobNetwork>(
        settings,
        network::JobNetworkSpec{.job_id = job_id,
                                .forge_hosts = std::move(forge_hosts),
                                .ca_dir_host = hostDir,
                                .ca_dir_jail = jailDir,
                                .logger = nullptr,
                                .own_namespace = plan_.network == job::JobPlan::Network::kNamespaceProxy,
                                .netns = std::move(netns)});
    proxy_setup_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

std::vector<proxy::AuditRecord> JobSandbox::takeAuditRecords() {
    return network_ ? network_->takeAuditRecords() : std::vector<proxy::AuditRecord>{};
}

void JobSandbox::makeServices(executor::Executor& executor, const RootProvider& roots, const std::string& job_id,
                              const executor::Limits& limits, std::vector<ServiceRequest> requests,
                              const ImageTable& images, std::chrono::milliseconds ready_timeout,
                              std::stop_token cancel) {
    if (!network_ || network_->netnsFd() < 0 || !root_) {
        throw base::Error("`services:` run as jailed Nix services in the job's own network namespace, which the '" +
                          plan_.backend + "' executor does not give its jobs; use the namespace or systemd executor");
    }
    ServicesSetup setup;
    setup.executor = &executor;
    setup.roots = roots;
    setup.dir = dir_.path() / "services";
    setup.netns_fd = network_->netnsFd();
    setup.limits = limits;
    setup.profile = plan_.profile;
    setup.owner = plan_.step_owner;
    setup.job_id = job_id;
    setup.proxy_env = network_->environment();
    // The proxy's CA, where the proxy variables say it is.
    setup.binds.push_back({network_->caFileHost().parent_path(), network_->caFileJail().parent_path(), false});
    setup.ready_timeout = ready_timeout;
    setup.images = &images;
    setup.note = note_;
    setup.cancel = std::move(cancel);
    std::filesystem::create_directories(setup.dir);
    if (plan_.step_owner) fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    std::vector<std::string> names;
    for (const auto& r : requests) names.push_back(r.id);
    services_ = std::make_unique<JobServices>(std::move(setup), std::move(requests));
    if (!writeServiceHosts(root_->root(), names)) {
        note_(LineKind::kWarning, "the job root's /etc is a link: its /etc/hosts does not name the services; "
                                  "use 127.0.0.1");
    }
}

void JobSandbox::makeJail(executor::Executor& executor, const std::string& job_id,
                          const executor::Limits& limits, const std::string& missing_program_note) {
    executor::JailSpec spec;
    spec.job_id = job_id;
    if (root_) spec.root = root_->root();
    // Steps as another user must traverse the job directory and own what they write.
    if (plan_.step_owner) {
        fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        for (const JobPath* p : {&dirs_.workspace, &dirs_.temp, &dirs_.home, &dirs_.tool_cache}) adopt(p->host, true);
    }
    for (const JobPath* p : {&dirs_.workspace, &dirs_.temp, &dirs_.home, &dirs_.tool_cache}) {
        spec.binds.push_back({p->host, p->jail, true});
    }
    spec.binds.push_back({dirs_.actions.host, dirs_.actions.jail, false});
    spec.limits = limits;
    spec.profile = plan_.profile;
    if (network_) {
        spec.netns_fd = network_->netnsFd();
        if (plan_.network == job::JobPlan::Network::kLoopbackProxy) spec.proxy_port = network_->proxyPort();
        spec.binds.push_back({network_->caFileHost().parent_path(), network_->caFileJail().parent_path(), false});
        if (root_ && rootTakesCaBundle(*root_)) {
            spec.binds.push_back({network_->caFileHost(), fs::path("/") / cache::kCaBundlePath, false});
        } else if (root_) {
            note_(LineKind::kDebug, "Network: the root's /etc/ssl/certs is not a plain directory with a bundle; the CA is only in the variables");
        }
    }
    jail_ = executor.prepare(spec);
    if (root_) jail_ = checkProgramsInRoot(std::move(jail_), root_->root(), spec.binds, missing_program_note);
}

void JobSandbox::keepCheckout(std::unique_ptr<CheckoutLease> lease, const fs::path& path) {
    checkouts_.push_back({std::move(lease), path});
}

std::vector<proxy::AuditRecord> JobSandbox::close() {
    std::vector<proxy::AuditRecord> last;
    if (closed_) return last;
    closed_ = true;
    jail_.reset();  // its processes and mounts
    if (services_) services_->stop();  // before their namespace goes
    if (network_) {
        network_->stop();  // the proxy; then its namespace with the object
        last = network_->takeAuditRecords();
        network_.reset();
    }
    for (auto& c : checkouts_) {
        const fs::path rel = c.path.lexically_relative(dirs_.workspace.host);
        struct stat st {};
        const bool linked = base::firstNonDirectoryBeneath(dirs_.workspace.host, rel.parent_path()) ||
                            (::lstat(c.path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode));
        if (!linked) continue;
        note_(LineKind::kWarning, "A step replaced a directory on the way to the checkout '" + rel.string() +
                        "' with a link; it is removed with the job directory");
        c.lease->abandon();
    }
    return last;
}

}  // namespace nixjail::runner::engine
