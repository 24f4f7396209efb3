// JobSandbox: what one job holds while it runs, acquired in phases by its JobPlan and released in
// the reverse order by the destructor: the job directory, its disk-quota volume, the directories
// steps see, the Nix root, the network (namespace and proxy), the checkouts made into the
// workspace, and the jail. Members are declared in that order, so teardown is declaration order.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "executor/executor.h"
#include "proxy/proxy.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "runner/engine/checkout_provider.h"
#include "runner/engine/actions_names.h"
#include "runner/actions/job_observer.h"
#include "runner/engine/job_root.h"
#include "runner/engine/job_services.h"
#include "runner/job/job_plan.h"
#include "runner/network/job_network.h"
#include "workspace-cache/job_volume.h"

namespace nixjail::runner::engine {

// A directory of the job as the runner sees it (host) and as steps see it (jail).
struct JobPath {
    std::filesystem::path host;
    std::filesystem::path jail;
};

// The directories steps use, as the runner and the steps see them.
struct JobDirectories {
    JobPath workspace, temp, home, tool_cache, actions;
};

class JobSandbox {
  public:
    // One line for the job's log.
    using Note = std::function<void(LineKind kind, const std::string& text)>;

    // The directories phase: the job directory under `work_dir` (empty: $TMPDIR), the volume of
    // the plan's disk quota holding the writable ones, and the temp directory's fd.
    JobSandbox(const job::JobPlan& plan, const std::filesystem::path& work_dir, Note note);
    // Stops the network and abandons checkouts a step redirected (close()), then releases
    // everything in the reverse order of acquisition.
    ~JobSandbox();
    JobSandbox(const JobSandbox&) = delete;
    JobSandbox& operator=(const JobSandbox&) = delete;

    const JobDirectories& dirs() const { return dirs_; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    // The temp directory as the runner opened it before any step ran: command files and scripts
    // are made and read through it, so a step cannot redirect them with a link.
    int tempFd() const { return temp_fd_.get(); }

    // Writes a new file (a step's script, the event) in the temp directory, through tempFd() and
    // never over anything the job put there; `what` names it in errors.
    void writeTempFile(const std::string& name, const std::string& content, const std::string& what) const;
    // Hands a path the steps must write to over to the plan's step owner (no-op without one).
    void adopt(const std::filesystem::path& path, bool recursive) const;
    // " The job's disk quota (N MiB) is full." when it is, else empty.
    std::string diskQuotaNote() const;

    // The root phase: the job's root from `provider` (the plan builds one).
    void makeRoot(const RootProvider& provider, const RootRequest& request);
    const JobRoot* root() const { return root_.get(); }

    // The network phase (a proxied plan): the job's namespace or loopback proxy with `settings`;
    // steps see its CA in `ca_dir_jail`. It touches nothing makeRoot does, so the two may run at
    // once on two threads. The jail (makeJail) sees the proxy's CA as the root's trust store too.
    // `netns`: the job's namespace if it was made ahead; empty: made here.
    void makeNetwork(const network::NetworkSettings& settings, const std::string& job_id,
                     std::vector<std::string> forge_hosts, base::UniqueFd netns = {});
    const network::JobNetwork* network() const { return network_.get(); }
    std::optional<std::chrono::milliseconds> proxySetupTime() const { return proxy_setup_; }
    // The proxy's audit records since the last call (empty without a network).
    std::vector<proxy::AuditRecord> takeAuditRecords();

    // The services phase (a job with `services:`, after the network): each service in a jail of
    // `executor` in the job's namespace, ready when this returns (job_services.h); the job's root
    // maps their names to loopback. Throws base::Error naming the service that failed.
    void makeServices(executor::Executor& executor, const RootProvider& roots, const std::string& job_id,
                      const executor::Limits& limits, std::vector<ServiceRequest> requests,
                      const ImageTable& images, std::chrono::milliseconds ready_timeout, std::stop_token cancel);
    const JobServices* services() const { return services_.get(); }

    // The jail phase: the job's directories, root and network bound as the plan says.
    // `missing_program_note` is added to "X: not in this job's root" errors.
    void makeJail(executor::Executor& executor, const std::string& job_id,
                  const executor::Limits& limits, const std::string& missing_program_note);
    executor::Jail& jail() { return *jail_; }
    // Puts a decorator around the jail, which it then owns (first_step_jail_check.h).
    void decorateJail(const std::function<std::unique_ptr<executor::Jail>(std::unique_ptr<executor::Jail>)>& wrap) {
        jail_ = wrap(std::move(jail_));
    }
    bool hasJail() const { return jail_ != nullptr && !closed_; }

    // A checkout into the workspace, held (and its snapshot kept) until the job ends.
    void keepCheckout(std::unique_ptr<CheckoutLease> lease, const std::filesystem::path& path);

    // Ends the jail and the network (the last audit records are returned) and abandons the
    // checkouts whose path a step redirected through a link. Called by the destructor too.
    std::vector<proxy::AuditRecord> close();

  private:
    const job::JobPlan& plan_;
    Note note_;
    base::TempDir dir_;
    std::unique_ptr<cache::JobVolume> volume_;  // holds the writable dirs under a disk quota
    JobDirectories dirs_;
    base::UniqueFd temp_fd_;
    std::unique_ptr<JobRoot> root_;
    std::unique_ptr<network::JobNetwork> network_;
    std::optional<std::chrono::milliseconds> proxy_setup_;  // time spent making network_
    std::unique_ptr<JobServices> services_;  // in network_'s namespace: stopped before it
    struct WorkspaceCheckout {
        std::unique_ptr<CheckoutLease> lease;
        std::filesystem::path path;
    };
    std::vector<WorkspaceCheckout> checkouts_;
    std::unique_ptr<executor::Jail> jail_;
    bool closed_ = false;
};

}  // namespace nixjail::runner::engine
