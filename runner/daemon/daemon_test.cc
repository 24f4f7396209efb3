// The Daemon's loop over FakeForgeClient: Declare's labels, fetching, shutdown, re-register stop.
#include "runner/daemon/daemon.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "executor/host/host_executor.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "runner/forge/fake_forge_client.h"

namespace nixjail::runner::daemon {
namespace {

class DaemonTest : public ::testing::Test {
  protected:
    DaemonParts parts() {
        DaemonParts p;
        p.fetch_client = &forge_;
        p.report_client = &forge_;
        p.runner.name = "unit";
        p.runner.labels = {"nix:host", "big"};
        auto& r = p.resources;
        r.config = &config_;
        r.client = &forge_;
        r.store = &store_;
        r.metrics = &metrics_;
        r.job_defaults.executor = &executor_;
        r.log =
            std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
        r.flush_interval = std::chrono::milliseconds(50);
        return p;
    }

    base::TempDir dir_;
    config::RunnerConfig config_;
    forge::FakeForgeClient forge_;
    store::JobStore store_{dir_.path() / "jobs.sqlite"};
    Metrics metrics_;
    executor::HostExecutor executor_;
};

TEST_F(DaemonTest, DeclaresLabelNamesAndConfiguredLabelsWin) {
    config_.runner.fetch_interval = std::chrono::milliseconds(10);
    {
        Daemon d(config_, parts());
        EXPECT_EQ(d.runOne(std::chrono::milliseconds(0)), std::nullopt);
    }
    EXPECT_EQ(forge_.declaredLabels(), (std::vector<std::string>{"nix", "big"}));
    config_.runner.labels = {"other:host"};
    Daemon d(config_, parts());
    d.runOne(std::chrono::milliseconds(0));
    EXPECT_EQ(forge_.declaredLabels(), (std::vector<std::string>{"other"}));
}

TEST_F(DaemonTest, ShutdownLetsTheRunningTaskFinishAndReport) {
    config_.runner.fetch_interval = std::chrono::milliseconds(10);
    const auto fifo = dir_.path() / "running";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    forge::Task t;
    t.id = 5;
    t.workflow_payload =
        "on: push\njobs:\n  j:\n    runs-on: nix\n    steps:\n      - run: echo up > " +
        fifo.string() + "; echo done\n";
    forge_.enqueueTask(t);
    Daemon d(config_, parts());
    std::thread loop([&] { d.run(); });
    // The step writes into the FIFO once the task runs; at most 60 s, so a daemon that never runs
    // it fails the test instead of hanging it.
    const bool running = [&] {
        base::UniqueFd fd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        pollfd p{fd.get(), POLLIN, 0};
        return fd && ::poll(&p, 1, 60000) > 0;
    }();
    d.shutdown();
    loop.join();
    ASSERT_TRUE(running) << "the task did not start within 60 s";
    EXPECT_EQ(forge_.task(5)->states.back().result, forge::Result::Success);
    EXPECT_EQ(store_.recentJobs(10).size(), 1u);
}

TEST_F(DaemonTest, UnknownRunnerIsAReRegisterError) {
    forge_.failNextCall(forge::UnauthenticatedError("unregistered runner", "unauthenticated", 401));
    Daemon d(config_, parts());
    try {
        d.run();
        FAIL();
    } catch (const ReRegisterError& e) {
        EXPECT_NE(std::string(e.what()).find("nixjail-runner register"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace nixjail::runner::daemon
