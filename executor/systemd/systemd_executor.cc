// SystemdExecutor: checks that systemd manages this machine, validates a JailSpec and creates the
// job's result directory; the steps run in systemd_jail.cc.
#include "executor/systemd/systemd_executor.h"

#include <spdlog/spdlog.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "executor/systemd/systemd_jail.h"
#include "executor/systemd/systemd_run_argv.h"
#include "executor/systemd/unit_properties.h"
#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/unique_fd.h"

namespace nixjail::executor {

namespace fs = std::filesystem;

namespace {

fs::path stateParent(const SystemdOptions& o) {
    if (!o.state_parent.empty()) return o.state_parent;
    std::error_code ec;
    fs::path run = o.run_root / "nixjail";
    fs::create_directories(run, ec);
    if (!ec && ::access(run.c_str(), W_OK) == 0) return run;
    const char* tmp = std::getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

class SystemdExecutor : public Executor {
  public:
    explicit SystemdExecutor(SystemdOptions options) : options_(std::move(options)) {}
    std::string name() const override { return "systemd"; }
    BackendTraits traits() const override { return systemdTraits(options_); }

    std::unique_ptr<Jail> prepare(const JailSpec& spec) override {
        std::error_code ec;
        auto root = fs::canonical(spec.root, ec);
        if (ec || !fs::is_directory(root, ec)) {
            throw base::Error("jail root '" + spec.root.string() + "' for job " + spec.job_id +
                              " is not a directory");
        }
        JailSpec resolved = spec;
        resolved.root = root;
        for (auto& b : resolved.binds) {
            auto host = fs::canonical(b.host, ec);
            if (ec) {
                throw base::Error("bind source '" + b.host.string() + "' for '" + b.jail.string() +
                                  "' of job " + spec.job_id + ": " + ec.message());
            }
            b.host = host;
            b.jail = b.jail.lexically_normal();
        }
        std::string netns;
        if (spec.netns_fd >= 0) {
            // systemd opens the path itself; the fd stays open in the runner for the job.
            netns = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(spec.netns_fd);
        }
        base::TempDir state("nixjail-systemd-", stateParent(options_));
        // Plan once now so that a path systemd cannot express fails the job before any step,
        // and the weakenings are logged once per job.
        auto plan = sysd::planUnitProperties({.root = resolved.root,
                                              .binds = resolved.binds,
                                              .profile = spec.profile,
                                              .limits = spec.limits,
                                              .runtime_max = spec.limits.wall_time,
                                              .netns_path = netns,
                                              .dynamic_user = options_.dynamic_user,
                                              .uid = options_.step_uid,
                                              .gid = options_.step_gid,
                                              .result_file = state.path() / "probe"});
        for (const auto& w : plan.weakenings)
            options_.logger->info("weakened: {} job={}", w, spec.job_id);
        return std::make_unique<sysd::SystemdJail>(std::move(resolved), options_, std::move(state),
                                                   std::move(netns));
    }

  private:
    SystemdOptions options_;
};

std::string pid1Name(const fs::path& proc_root) {
    std::ifstream comm(proc_root / "1" / "comm");
    std::string name;
    std::getline(comm, name);
    return name.empty() ? "unknown" : name;
}

bool uidKnown(uid_t uid) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    return ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr;
}

bool gidKnown(gid_t gid) {
    struct group gr {};
    struct group* found = nullptr;
    std::vector<char> buf(16384);
    return ::getgrgid_r(gid, &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr;
}

}  // namespace

std::string stepAccountCommand(const SystemdOptions& o) {
    return "groupadd --system --gid " + std::to_string(o.step_gid) +
           " nixjail-step && useradd --system --uid " + std::to_string(o.step_uid) + " --gid " +
           std::to_string(o.step_gid) +
           " --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nixjail-step";
}

BackendTraits systemdTraits(const SystemdOptions& options) {
    BackendTraits t{.remaps_paths = true,
                    .needs_root = true,
                    .network = BackendTraits::Network::kOwnNamespace};
    if (!options.dynamic_user) t.step_owner = StepOwner{options.step_uid, options.step_gid};
    return t;
}

std::optional<std::string> systemdUnusableReason(const SystemdOptions& options) {
    if (!systemdIsPid1(options.proc_root, options.run_root)) {
        std::error_code ec;
        bool marker = fs::is_directory(options.run_root / "systemd" / "system", ec);
        return "systemd is not PID 1 here (PID 1 is '" + pid1Name(options.proc_root) + "', '" +
               (options.run_root / "systemd" / "system").string() + "' " +
               (marker ? "exists" : "is missing") +
               "); use the namespace executor (--executor namespace), which needs no service "
               "manager";
    }
    if (options.dynamic_user) return std::nullopt;
    bool uid_ok = false, gid_ok = false;
    if (options.step_account_known) {
        uid_ok = gid_ok = options.step_account_known(options.step_uid, options.step_gid);
    } else {
        uid_ok = uidKnown(options.step_uid);
        gid_ok = gidKnown(options.step_gid);
    }
    if (uid_ok && gid_ok) return std::nullopt;
    std::string missing = !uid_ok && !gid_ok ? "uid " + std::to_string(options.step_uid) +
                                                   " and gid " + std::to_string(options.step_gid)
                          : !uid_ok          ? "uid " + std::to_string(options.step_uid)
                                             : "gid " + std::to_string(options.step_gid);
    return "steps run as " + missing +
           ", which this machine's user database does not know, and systemd refuses to start a "
           "unit whose User=/Group= it cannot resolve (status 217/USER); create the step account "
           "once as root: `" +
           stepAccountCommand(options) +
           "` (the NixOS module declares it), or use the namespace executor (--executor "
           "namespace)";
}

std::unique_ptr<Executor> makeSystemdExecutor(const SystemdOptions& options) {
    if (auto reason = systemdUnusableReason(options))
        throw base::Error("cannot use the systemd executor: " + *reason);
    SystemdOptions o = options;
    if (!o.logger) o.logger = spdlog::default_logger();
    return std::make_unique<SystemdExecutor>(std::move(o));
}

void sweepSystemdUnits(const SystemdOptions& options) {
    if (options.instance.empty()) {
        throw base::Error(
            "sweeping systemd step units needs the runner's instance tag: without "
            "it, other runners' units would match");
    }
    const std::string pattern = sysd::unitPattern(options.instance);
    for (const char* verb : {"stop", "reset-failed"}) {
        auto err = base::Pipe::create();
        auto child = base::ChildProcess::spawn(
            {.argv = {options.systemctl, verb, pattern},
             .env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     "SYSTEMD_COLORS=0", "SYSTEMD_PAGER="},
             .stderr_fd = err.write.get()});
        err.write.reset();
        std::string message;
        char buf[512];
        for (ssize_t n; (n = ::read(err.read.get(), buf, sizeof buf)) > 0;)
            message.append(buf, static_cast<size_t>(n));
        const auto st = child.wait();
        if (st.exitCode() != 0) {
            while (!message.empty() && message.back() == '\n') message.pop_back();
            throw base::Error("systemctl " + std::string(verb) + " '" + pattern + "' exited " +
                              std::to_string(st.exitCode()) +
                              (message.empty() ? "" : ": " + message));
        }
    }
}

}  // namespace nixjail::executor
