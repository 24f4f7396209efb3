// ExecKeeper: exec's JobKeeper. Kept jobs get an entry in the cache directory's KeptRegistry and a
// socket; once the run has reported, serve() answers `shell` and `kept rm` on those sockets until
// every kept job is released (or the process is told to stop), then returns.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/base/unique_fd.h"
#include "runner/cli/kept_registry.h"
#include "runner/engine/kept_job.h"

namespace nixjail::runner::cli {

class ExecKeeper : public engine::JobKeeper {
  public:
    // Kept jobs, of this run and earlier ones in the registry, may take `budget` bytes in all:
    // keeping a job releases the oldest ones first, and a job larger than the budget alone is
    // not kept.
    ExecKeeper(KeptRegistry registry, std::uint64_t budget);
    // Releases every job still kept.
    ~ExecKeeper() override;
    ExecKeeper(const ExecKeeper&) = delete;
    ExecKeeper& operator=(const ExecKeeper&) = delete;

    void adopt(std::unique_ptr<engine::KeptJob> job) override;
    bool empty() const;
    // Where the keeper's own output goes once exec has returned (beside the kept jobs).
    std::filesystem::path logPath() const;
    // How to get into each kept job, for the end of exec's output.
    void announce(std::FILE* out) const;
    // Serves the kept jobs' sockets until all are released or `stop` is requested (then releases
    // them all). Requests are answered on threads of their own, one shell per job at a time.
    void serve(std::stop_token stop);

  private:
    struct Kept {
        KeptEntry entry;
        std::unique_ptr<engine::KeptJob> job;
        base::UniqueFd listener;
        std::mutex use;           // held by the shell running in the job, and by its release
        std::stop_source cancel;  // ends the running shell (release)
        std::uint64_t bytes = 0;
        bool released = false;
    };

    void answer(Kept& kept, base::UniqueFd connection);
    nlohmann::json shell(Kept& kept, const nlohmann::json& request, std::vector<base::UniqueFd>& fds);
    // Releases the job (waiting for its shell to end); true when this call did.
    bool release(Kept& kept);
    void wake() const;

    KeptRegistry registry_;
    std::uint64_t budget_;
    std::mutex adopt_mu_;  // one adoption (and its making room) at a time
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<Kept>> kept_;
    base::Pipe wake_ = base::Pipe::create();
    std::vector<std::thread> workers_;
};

}  // namespace nixjail::runner::cli
