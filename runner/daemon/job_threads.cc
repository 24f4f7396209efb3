// JobThreads: the job threads, their count, and shutdown with a grace period.
#include "runner/daemon/job_threads.h"

namespace nixjail::runner::daemon {

namespace {

// After the grace period cancelled the jobs: how long their final reports may keep retrying.
constexpr std::chrono::seconds kReportGrace{30};

}  // namespace

JobThreads::JobThreads(std::shared_ptr<spdlog::logger> log) : log_(std::move(log)) {}

JobThreads::~JobThreads() {
    {
        std::lock_guard lock(mutex_);
        stage_ = Stage::kCancelNow;
    }
    cancel_.request_stop();
    give_up_.request_stop();
    for (auto& w : workers_) {
        if (w.thread.joinable()) w.thread.join();
    }
}

void JobThreads::start(Job job) {
    std::lock_guard lock(mutex_);
    ++running_;
    auto& worker = workers_.emplace_back();
    worker.thread = std::thread([this, &worker, job = std::move(job)] {
        const auto result = job(cancel_.get_token(), give_up_.get_token());
        std::lock_guard l(mutex_);
        --running_;
        last_result_ = result;
        worker.done = true;
        cv_.notify_all();
    });
}

bool JobThreads::waitForSlot(int capacity) {
    std::unique_lock lock(mutex_);
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (!it->done) {
            ++it;
            continue;
        }
        it->thread.join();
        it = workers_.erase(it);
    }
    cv_.wait(lock, [&] { return stage_ != Stage::kRunning || running_ < capacity; });
    return stage_ == Stage::kRunning;
}

bool JobThreads::pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, d, [&] { return stage_ != Stage::kRunning; });
    return stage_ == Stage::kRunning;
}

void JobThreads::waitIdle() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return running_ == 0 || stage_ != Stage::kRunning; });
}

std::optional<forge::Result> JobThreads::lastResult() {
    std::lock_guard lock(mutex_);
    return last_result_;
}

void JobThreads::shutdown(std::chrono::milliseconds grace) {
    std::lock_guard lock(mutex_);
    if (stage_ == Stage::kRunning) {
        stage_ = Stage::kStopFetching;
        log_->info("shutting down: fetching no more tasks; {} running job(s) may take up to {} s",
                   running_, std::chrono::duration_cast<std::chrono::seconds>(grace).count());
    } else if (stage_ == Stage::kStopFetching) {
        stage_ = Stage::kCancelNow;
        log_->info("asked again: cancelling the running jobs now");
    }
    cv_.notify_all();
}

void JobThreads::shutdownNow() {
    std::lock_guard lock(mutex_);
    stage_ = Stage::kCancelNow;
    cv_.notify_all();
}

void JobThreads::drain(std::chrono::milliseconds grace) {
    std::unique_lock lock(mutex_);
    const auto grace_end = std::chrono::steady_clock::now() + grace;
    cv_.wait_until(lock, grace_end, [&] { return running_ == 0 || stage_ == Stage::kCancelNow; });
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
