// The fetch loop, the job threads, and shutdown with a grace period.
#include "runner/daemon/daemon.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "runner/forge/backoff.h"

namespace nixjail::runner::daemon {

namespace {

constexpr const char* kVersion = "nixjail-runner 0.1.0";
// After the grace period cancelled the jobs: how long their final reports may keep retrying.
constexpr std::chrono::seconds kReportGrace{30};

std::vector<std::string> labelNames(const std::vector<std::string>& labels) {
    std::vector<std::string> names;
    for (const auto& l : labels) names.push_back(l.substr(0, l.find(':')));
    return names;
}

}  // namespace

Daemon::Daemon(const config::RunnerConfig& config, DaemonParts parts)
    : config_(config), parts_(std::move(parts)), log_(parts_.resources.log) {}

Daemon::~Daemon() {
    {
        std::lock_guard lock(mutex_);
        shutting_down_ = cancel_now_ = true;
    }
    cancel_.request_stop();
    give_up_.request_stop();
    for (auto& w : workers_) {
        if (w.thread.joinable()) w.thread.join();
    }
}

void Daemon::declare() {
    const auto& labels =
        config_.runner.labels.empty() ? parts_.runner.labels : config_.runner.labels;
    forge::Backoff backoff(std::chrono::seconds(1), std::chrono::minutes(1));
    int failures = 0;
    for (;;) {
        try {
            parts_.report_client->declare(kVersion, labelNames(labels));
            log_->info("declared runner '{}' with labels {} to {}{}", parts_.runner.name,
                       fmt::join(labelNames(labels), ","), parts_.runner.address,
                       failures ? fmt::format(" after {} failed attempt{}", failures, failures > 1 ? "s" : "")
                                : "");
            return;
        } catch (const forge::UnauthenticatedError& e) {
            throw ReRegisterError(
                "the forge at " + parts_.runner.address + " does not know runner '" +
                parts_.runner.name + "' (" + parts_.runner.uuid + ") any more (" + e.what() +
                "); register it again with `nixjail-runner register` and restart");
        } catch (const forge::ForgeError& e) {
            if (e.code() == "unimplemented") {
                log_->warn(
                    "the forge does not know Declare (older than 1.21); labels stay as registered");
                return;
            }
            if (!e.retryable()) throw;
            const auto d = backoff.next();
            if (failures++ == 0) {
                // A mistyped address or a forge that is down must not hide among the retries.
                const std::string what = fmt::format(
                    "cannot reach the forge at '{}' to declare runner '{}': {}; check the address "
                    "in the runner file '{}' and the network; retrying (at least every 60 s) until "
                    "it answers",
                    parts_.runner.address, parts_.runner.name, e.what(),
                    config_.runner.file.string());
                log_->error("{}", what);
                // The text log is on stderr already; a JSON one is for machines, so say it
                // plainly for the admin who started the daemon too.
                if (config_.log.format == "json")
                    std::fprintf(stderr, "nixjail-runner daemon: %s\n", what.c_str());
            } else {
                log_->warn("declaring the runner failed, retrying in {} ms: {}", d.count(),
                           e.what());
            }
            if (!pause(d)) return;
        }
    }
}

bool Daemon::pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, d, [&] { return shutting_down_; });
    return !shutting_down_;
}

bool Daemon::pollOnce() {
    auto r = parts_.fetch_client->fetchTask(tasks_version_);
    if (r.task) {
        tasks_version_ = 0;  // the next poll searches again
        startTask(std::move(*r.task));
        return true;
    }
    if (r.tasks_version > tasks_version_) tasks_version_ = r.tasks_version;
    return false;
}

void Daemon::startTask(forge::Task task) {
    std::lock_guard lock(mutex_);
    ++running_;
    auto& worker = workers_.emplace_back();
    worker.thread = std::thread([this, &worker, task = std::move(task)] {
        auto r = runTask(task, parts_.resources, cancel_.get_token(), give_up_.get_token());
        if (parts_.resources.after_job) parts_.resources.after_job();
        std::lock_guard l(mutex_);
        --running_;
        last_result_ = r.result;
        worker.done = true;
        cv_.notify_all();
    });
}

void Daemon::reapFinished() {
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (!it->done) {
            ++it;
            continue;
        }
        it->thread.join();
        it = workers_.erase(it);
    }
}

void Daemon::run() {
    declare();
    // Retries start at the poll interval and double up to a minute.
    forge::Backoff backoff(std::max(config_.runner.fetch_interval, std::chrono::milliseconds(100)),
                           std::chrono::minutes(1));
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            reapFinished();
            cv_.wait(lock, [&] { return shutting_down_ || running_ < config_.runner.capacity; });
            if (shutting_down_) break;
        }
        try {
            const bool got = pollOnce();
            backoff.reset();
            if (!got && !pause(config_.runner.fetch_interval)) break;
        } catch (const forge::UnauthenticatedError& e) {
            {
                std::lock_guard lock(mutex_);
                shutting_down_ = cancel_now_ = true;  // running jobs cannot report either
            }
            drain();
            throw ReRegisterError(
                "the forge at " + parts_.runner.address + " does not know runner '" +
                parts_.runner.name + "' (" + parts_.runner.uuid + ") any more (" + e.what() +
                "); register it again with `nixjail-runner register` and restart");
        } catch (const forge::ForgeError& e) {
            parts_.resources.metrics->fetchError();
            const auto d = backoff.next();
            log_->warn("fetching a task failed, retrying in {} ms: {}", d.count(), e.what());
            if (!pause(d)) break;
        }
    }
    drain();
}

std::optional<forge::Result> Daemon::runOne(std::chrono::milliseconds wait) {
    declare();
    const auto deadline = std::chrono::steady_clock::now() + wait;
    forge::Backoff backoff(std::chrono::seconds(1), std::chrono::seconds(10));
    int errors = 0;
    bool got = false;
    while (!got) {
        try {
            got = pollOnce();
            if (got) break;
        } catch (const forge::UnauthenticatedError& e) {
            throw ReRegisterError(
                "the forge at " + parts_.runner.address + " does not know runner '" +
                parts_.runner.name + "' (" + parts_.runner.uuid + ") any more (" + e.what() +
                "); register it again with `nixjail-runner register` and restart");
        } catch (const forge::ForgeError& e) {
            parts_.resources.metrics->fetchError();
            if (!e.retryable() || (wait.count() == 0 && ++errors >= 3)) throw;
            const auto d = backoff.next();
            log_->warn("fetching a task failed, retrying in {} ms: {}", d.count(), e.what());
            if (!pause(d)) return std::nullopt;
            continue;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        if (!pause(config_.runner.fetch_interval)) return std::nullopt;
    }
    {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return running_ == 0 || shutting_down_; });
    }
    drain();
    return last_result_;
}

void Daemon::shutdown() {
    std::lock_guard lock(mutex_);
    if (!shutting_down_) {
        shutting_down_ = true;
        log_->info("shutting down: fetching no more tasks; {} running job(s) may take up to {} s",
                   running_,
                   std::chrono::duration_cast<std::chrono::seconds>(config_.runner.shutdown_timeout)
                       .count());
    } else if (!cancel_now_) {
        cancel_now_ = true;
        log_->info("asked again: cancelling the running jobs now");
    }
    cv_.notify_all();
}

void Daemon::drain() {
    std::unique_lock lock(mutex_);
    const auto grace_end = std::chrono::steady_clock::now() + config_.runner.shutdown_timeout;
    cv_.wait_until(lock, grace_end, [&] { return running_ == 0 || cancel_now_; });
    if (running_ > 0) {
        log_->warn("cancelling {} running job(s) and reporting them cancelled", running_);
        cancel_.request_stop();
        cv_.wait_for(lock, kReportGrace, [&] { return running_ == 0; });
        if (running_ > 0) {
            log_->error(
                "giving up reporting {} job(s) to the forge; they are recorded in the job database",
                running_);
            give_up_.request_stop();
        }
    }
    lock.unlock();
    for (auto& w : workers_) {
        if (w.thread.joinable()) w.thread.join();
    }
    lock.lock();
    workers_.clear();
}

}  // namespace nixjail::runner::daemon
