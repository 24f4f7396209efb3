// JobThreads with stand-in jobs: capacity, the result of the last job, and shutdown's stages
// (grace period, cancel, give up the reports).
#include "runner/daemon/job_threads.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <atomic>
#include <future>

namespace nixjail::runner::daemon {
namespace {

using std::chrono::milliseconds;

std::shared_ptr<spdlog::logger> quietLog() {
    return std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
}

// Waits until `token` is stopped (or 60 s pass, so a broken test fails instead of hanging).
bool waitFor(std::stop_token token) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!token.stop_requested()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(milliseconds(1));
    }
    return true;
}

TEST(JobThreads, ASlotFreesUpWhenAJobEndsAndItsResultIsKept) {
    JobThreads jobs(quietLog());
    EXPECT_EQ(jobs.lastResult(), std::nullopt);
    std::promise<void> release;
    auto released = release.get_future().share();
    jobs.start([released](std::stop_token, std::stop_token) {
        released.wait();
        return forge::Result::Success;
    });
    auto slot = std::async(std::launch::async, [&] { return jobs.waitForSlot(1); });
    EXPECT_EQ(slot.wait_for(milliseconds(50)), std::future_status::timeout);
    release.set_value();
    EXPECT_TRUE(slot.get());
    jobs.waitIdle();
    EXPECT_EQ(jobs.lastResult(), forge::Result::Success);
    jobs.drain(milliseconds(0));
}

TEST(JobThreads, ShutdownStopsFetchingAndLetsTheJobFinishWithinTheGracePeriod) {
    JobThreads jobs(quietLog());
    std::atomic<bool> cancelled{false};
    std::promise<void> release;
    auto released = release.get_future().share();
    jobs.start([&, released](std::stop_token cancel, std::stop_token) {
        released.wait();
        cancelled = cancel.stop_requested();
        return forge::Result::Success;
    });
    jobs.shutdown(std::chrono::minutes(1));
    EXPECT_FALSE(jobs.pause(std::chrono::minutes(1)));
    EXPECT_FALSE(jobs.waitForSlot(1));
    release.set_value();
    jobs.drain(std::chrono::minutes(1));
    EXPECT_FALSE(cancelled);
    EXPECT_EQ(jobs.lastResult(), forge::Result::Success);
}

TEST(JobThreads, AfterTheGracePeriodTheJobsAreCancelled) {
    JobThreads jobs(quietLog());
    jobs.start([](std::stop_token cancel, std::stop_token) {
        return waitFor(cancel) ? forge::Result::Cancelled : forge::Result::Failure;
    });
    jobs.shutdown(milliseconds(10));
    jobs.drain(milliseconds(10));
    EXPECT_EQ(jobs.lastResult(), forge::Result::Cancelled);
}

TEST(JobThreads, ASecondShutdownCancelsAtOnce) {
    JobThreads jobs(quietLog());
    jobs.start([](std::stop_token cancel, std::stop_token) {
        return waitFor(cancel) ? forge::Result::Cancelled : forge::Result::Failure;
    });
    jobs.shutdown(std::chrono::minutes(10));
    jobs.shutdown(std::chrono::minutes(10));
    const auto start = std::chrono::steady_clock::now();
    jobs.drain(std::chrono::minutes(10));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
    EXPECT_EQ(jobs.lastResult(), forge::Result::Cancelled);
}

TEST(JobThreads, DestroyingCancelsAndGivesUpTheReports) {
    std::atomic<bool> gave_up{false};
    {
        JobThreads jobs(quietLog());
        jobs.start([&](std::stop_token cancel, std::stop_token give_up) {
            waitFor(cancel);
            gave_up = waitFor(give_up);
            return forge::Result::Cancelled;
        });
    }
    EXPECT_TRUE(gave_up);
}

}  // namespace
}  // namespace nixjail::runner::daemon
