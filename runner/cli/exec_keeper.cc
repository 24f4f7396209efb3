// Kept jobs of one exec run, and the requests for them.
#include "runner/cli/exec_keeper.h"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "runner/base/error.h"
#include "runner/cli/keeper_protocol.h"

namespace nixjail::runner::cli {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

std::string mib(std::uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

// The re-run steps' log (shell --step), written to the caller's stdout.
class PlainObserver : public actions::JobObserver {
  public:
    explicit PlainObserver(int fd) : fd_(fd) {}
    void stepStarted(const actions::StepRecord& step) override { write("--- " + step.name + "\n"); }
    void line(const actions::LogLine& line) override { write(line.text + "\n"); }
    void stepFinished(const actions::StepRecord& step) override {
        write("--- " + step.name + ": " + actions::resultName(step.conclusion) + "\n");
    }

  private:
    void write(const std::string& text) { (void)!::write(fd_, text.data(), text.size()); }
    int fd_;
};

}  // namespace

ExecKeeper::ExecKeeper(KeptRegistry registry, std::uint64_t budget)
    : registry_(std::move(registry)), budget_(budget) {}

ExecKeeper::~ExecKeeper() {
    for (auto& w : workers_) {
        if (w.joinable()) w.join();
    }
    for (auto& k : kept_) release(*k);
}

std::filesystem::path ExecKeeper::logPath() const {
    return registry_.root() / ("keeper-" + std::to_string(::getpid()) + ".log");
}

bool ExecKeeper::empty() const {
    std::lock_guard lock(mu_);
    for (const auto& k : kept_) {
        if (!k->released) return false;
    }
    return true;
}

void ExecKeeper::adopt(std::unique_ptr<engine::KeptJob> job) {
    const engine::KeptJobInfo info = job->info();
    const std::uint64_t bytes = allocatedBytes(info.dir);
    if (bytes > budget_) {
        throw base::Error("its " + mib(bytes) + " exceed the kept jobs' budget of " + mib(budget_) +
                          " (--keep-budget, or cache.workspace_budget)");
    }
    // Jobs ending at once make room one after another; release() takes the locks it needs.
    std::lock_guard adopting(adopt_mu_);
    // Older kept jobs make room, oldest first: ours through release(), other runs' through their
    // keepers.
    std::uint64_t total = bytes;
    std::vector<std::pair<KeptEntry, std::uint64_t>> others;
    for (const auto& e : registry_.list()) {
        const std::uint64_t b = allocatedBytes(e.job_dir);
        total += b;
        others.emplace_back(e, b);
    }
    for (auto& [e, b] : others) {
        if (total <= budget_) break;
        Kept* ours = nullptr;
        {
            std::lock_guard lock(mu_);
            for (auto& k : kept_) {
                if (k->entry.id == e.id) ours = k.get();
            }
        }
        if (ours) {
            release(*ours);
        } else {
            try {
                releaseKept(registry_, e);
            } catch (const base::Error& err) {
                std::fprintf(stderr, "nixjail-runner: releasing the kept job '%s' for room failed: %s\n",
                             e.id.c_str(), err.what());
                continue;
            }
        }
        std::fprintf(stderr, "nixjail-runner: released the kept job '%s' (%s) to stay within the kept jobs' budget\n",
                     e.id.c_str(), mib(b).c_str());
        total -= b;
    }
    auto k = std::make_unique<Kept>();
    k->entry.job = info.job;
    k->entry.name = info.name;
    k->entry.workflow = info.workflow;
    k->entry.result = info.result;
    k->entry.step = info.step;
    k->entry.steps = info.steps;
    k->entry.job_dir = info.dir;
    k->entry.keeper = ::getpid();
    k->entry.created = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    registry_.create(k->entry);
    try {
        k->listener = listenKeeperSocket(k->entry.socket());
    } catch (...) {
        registry_.forget(k->entry);
        throw;
    }
    k->bytes = bytes;
    k->job = std::move(job);
    std::lock_guard lock(mu_);
    kept_.push_back(std::move(k));
}

void ExecKeeper::announce(std::FILE* out) const {
    std::lock_guard lock(mu_);
    for (const auto& k : kept_) {
        if (k->released) continue;
        const auto& e = k->entry;
        std::fprintf(out, "\nKept job '%s' (%s%s) as %s, %s, in %s\n", e.name.c_str(), e.result.c_str(),
                     e.step.empty() ? "" : (", step " + e.step).c_str(), e.id.c_str(), mib(k->bytes).c_str(),
                     e.job_dir.c_str());
        std::fprintf(out, "  a shell in its jail:     nixjail-runner shell %s\n", e.id.c_str());
        std::fprintf(out, "  one command:             nixjail-runner shell %s -- cat some-file\n", e.id.c_str());
        if (e.steps > 0) {
            std::fprintf(out, "  steps again, then shell: nixjail-runner shell %s --step N\n", e.id.c_str());
        }
        std::fprintf(out, "  release it:              nixjail-runner kept rm %s\n", e.id.c_str());
    }
    std::fflush(out);
}

void ExecKeeper::wake() const {
    const char byte = 1;
    (void)!::write(wake_.write.get(), &byte, 1);
}

void ExecKeeper::serve(std::stop_token stop) {
    // A `shell` that goes away mid-request closes the pipes the keeper writes to: that is an error
    // for the request, not the end of the keeper (jailed steps get their signals back by default).
    ::signal(SIGPIPE, SIG_IGN);
    std::stop_callback onStop(stop, [this] { wake(); });
    for (;;) {
        std::vector<pollfd> fds{{wake_.read.get(), POLLIN, 0}};
        std::vector<Kept*> polled;
        {
            std::lock_guard lock(mu_);
            for (auto& k : kept_) {
                if (k->released) {
                    k->listener.reset();
                    continue;
                }
                fds.push_back({k->listener.get(), POLLIN, 0});
                polled.push_back(k.get());
            }
        }
        if (polled.empty() || stop.stop_requested()) break;
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            throw base::SysError("waiting for requests to the kept jobs");
        }
        if (fds[0].revents) {
            char buf[64];
            (void)!::read(wake_.read.get(), buf, sizeof buf);
        }
        for (std::size_t i = 0; i < polled.size(); ++i) {
            if (!(fds[i + 1].revents & POLLIN)) continue;
            base::UniqueFd connection(::accept4(polled[i]->listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!connection) continue;
            workers_.emplace_back([this, k = polled[i], c = std::move(connection)]() mutable { answer(*k, std::move(c)); });
        }
    }
    std::vector<Kept*> all;
    {
        std::lock_guard lock(mu_);
        for (auto& k : kept_) all.push_back(k.get());
    }
    for (auto* k : all) release(*k);
    for (auto& w : workers_) {
        if (w.joinable()) w.join();
    }
    workers_.clear();
}

void ExecKeeper::answer(Kept& kept, base::UniqueFd connection) {
    Json reply;
    try {
        KeeperMessage request = receiveKeeperMessage(connection.get());
        const std::string op = request.body.value("op", "");
        if (op == "shell") {
            reply = shell(kept, request.body, request.fds);
        } else if (op == "release") {
            release(kept);
            reply = Json{{"released", true}};
        } else if (op == "info") {
            reply = Json{{"id", kept.entry.id}, {"pid", ::getpid()}};
        } else {
            reply = Json{{"error", "unknown request '" + op + "'"}};
        }
    } catch (const std::exception& e) {
        reply = Json{{"error", e.what()}};
    }
    try {
        sendKeeperMessage(connection.get(), reply);
    } catch (const base::Error&) {
        // The caller went away (Ctrl-C on `shell`); nothing to tell.
    }
}

Json ExecKeeper::shell(Kept& kept, const Json& request, std::vector<base::UniqueFd>& fds) {
    if (fds.size() != 3) throw base::Error("a shell request needs the caller's stdin, stdout and stderr");
    std::unique_lock use(kept.use, std::try_to_lock);
    if (!use.owns_lock()) throw base::Error("another shell is running in '" + kept.entry.id + "'; one at a time");
    if (!kept.job || kept.released) throw base::Error("'" + kept.entry.id + "' was released");
    engine::ShellRequest r;
    r.argv = request.value("argv", std::vector<std::string>{});
    r.stdio = {.in = fds[0].get(), .out = fds[1].get(), .err = fds[2].get(),
               .terminal = request.value("terminal", false)};
    if (request.contains("from_step") && request["from_step"].is_number_unsigned()) {
        r.from_step = request["from_step"].get<std::size_t>();
    }
    PlainObserver observer(fds[1].get());
    r.observer = &observer;
    r.cancel = kept.cancel.get_token();
    const engine::ShellResult result = kept.job->shell(r);
    Json reply{{"exit_code", result.step.exit_code},
               {"signal", result.step.term_signal},
               {"network", result.network}};
    if (!result.step.setup_error.empty()) reply["setup_error"] = result.step.setup_error;
    if (result.step.cancelled) reply["cancelled"] = true;
    return reply;
}

bool ExecKeeper::release(Kept& kept) {
    kept.cancel.request_stop();
    std::lock_guard use(kept.use);
    std::lock_guard lock(mu_);
    if (kept.released) return false;
    kept.job.reset();  // the jail, network, root, volume and directory, as at a job's end
    registry_.forget(kept.entry);
    kept.released = true;
    wake();
    return true;
}

}  // namespace nixjail::runner::cli
