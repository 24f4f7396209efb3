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

std::vector<std::string> labelNames(const std::vector<std::string>& labels) {
    std::vector<std::string> names;
    for (const auto& l : labels) names.push_back(l.substr(0, l.find(':')));
    return names;
}

}  // namespace

Daemon::Daemon(const config::RunnerConfig& config, DaemonParts parts)
    : config_(config), parts_(std::move(parts)), log_(parts_.resources.log), jobs_(log_) {}

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
            if (!jobs_.pause(d)) return;
        }
    }
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
    jobs_.start([this, task = std::move(task)](std::stop_token cancel, std::stop_token give_up) {
        auto r = runTask(task, parts_.resources, std::move(cancel), std::move(give_up));
        if (parts_.resources.after_job) parts_.resources.after_job();
        return r.result;
    });
}

void Daemon::run() {
    declare();
    // Retries start at the poll interval and double up to a minute.
    forge::Backoff backoff(std::max(config_.runner.fetch_interval, std::chrono::milliseconds(100)),
                           std::chrono::minutes(1));
    for (;;) {
        if (!jobs_.waitForSlot(config_.runner.capacity)) break;
        try {
            const bool got = pollOnce();
            backoff.reset();
            if (!got && !jobs_.pause(config_.runner.fetch_interval)) break;
        } catch (const forge::UnauthenticatedError& e) {
            jobs_.shutdownNow();  // running jobs cannot report either
            jobs_.drain(config_.runner.shutdown_timeout);
            throw ReRegisterError(
                "the forge at " + parts_.runner.address + " does not know runner '" +
                parts_.runner.name + "' (" + parts_.runner.uuid + ") any more (" + e.what() +
                "); register it again with `nixjail-runner register` and restart");
        } catch (const forge::ForgeError& e) {
            parts_.resources.metrics->fetchError();
            const auto d = backoff.next();
            log_->warn("fetching a task failed, retrying in {} ms: {}", d.count(), e.what());
            if (!jobs_.pause(d)) break;
        }
    }
    jobs_.drain(config_.runner.shutdown_timeout);
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
            if (!jobs_.pause(d)) return std::nullopt;
            continue;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        if (!jobs_.pause(config_.runner.fetch_interval)) return std::nullopt;
    }
    jobs_.waitIdle();
    jobs_.drain(config_.runner.shutdown_timeout);
    return jobs_.lastResult();
}

void Daemon::shutdown() { jobs_.shutdown(config_.runner.shutdown_timeout); }

}  // namespace nixjail::runner::daemon
