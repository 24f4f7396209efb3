// The daemon's operator log in JSON: one valid object per line, whatever the message holds.
#include "runner/daemon/daemon_runtime.h"

#include <gtest/gtest.h>
#include <linux/magic.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "runner/base/error.h"
#include "runner/base/temp_dir.h"
#include "runner/forge/runner_file.h"

namespace nixjail::runner::daemon {
namespace {

TEST(DaemonLogger, JsonFormatIsOneValidObjectPerLine) {
    config::RunnerConfig cfg;
    cfg.log.format = "json";
    cfg.log.level = "debug";
    std::ostringstream out;
    auto log = makeDaemonLogger(cfg, std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    log->clone("task 7")->info("step \"build\" said\tC:\\path\nand more {}", 1);
    log->debug("plain");
    std::istringstream lines(out.str());
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    auto first = nlohmann::json::parse(line);
    EXPECT_EQ(first["message"], "step \"build\" said\tC:\\path\nand more 1");
    EXPECT_EQ(first["logger"], "task 7");
    EXPECT_EQ(first["level"], "info");
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_EQ(nlohmann::json::parse(line)["message"], "plain");
}

// A daemon over a registered runner file (no forge is contacted while starting), the host
// executor and `storage` for the caches in `cache_dir`.
struct RuntimeStart {
    std::string log, error;
    std::unique_ptr<DaemonRuntime> runtime;
};

RuntimeStart startDaemon(const base::TempDir& state, const std::filesystem::path& cache_dir,
                         const std::string& storage, const std::string& backend = "host") {
    forge::writeRunnerFile(
        state.path() / ".runner",
        forge::runnerFileFromSecret("http://127.0.0.1:9", std::string(40, 'a'), "t"));
    config::RunnerConfig cfg;
    cfg.source = (state.path() / "runner.yaml").string();
    cfg.runner.file = state.path() / ".runner";
    cfg.database = state.path() / "jobs.sqlite";
    cfg.executor.backend = backend;
    cfg.metrics.address = "";
    cfg.cache.dir = cache_dir;
    cfg.cache.storage = storage;
    std::ostringstream out;
    RuntimeStart r;
    try {
        r.runtime = std::make_unique<DaemonRuntime>(
            cfg, state.path() / "default-cache", cache::NixTools{},
            makeDaemonLogger(cfg, std::make_shared<spdlog::sinks::ostream_sink_mt>(out)));
    } catch (const base::Error& e) {
        r.error = e.what();
    }
    r.log = out.str();
    return r;
}

unsigned long filesystemOf(const std::filesystem::path& p) {
    struct statfs sfs {};
    EXPECT_EQ(::statfs(p.c_str(), &sfs), 0) << p;
    return static_cast<unsigned long>(sfs.f_type);
}

TEST(DaemonRuntimeStorage, ConfiguredBackendIsUsedForTheCaches) {
    base::TempDir state("nixjail-runtime-test-");
    auto r = startDaemon(state, state.path() / "cache", "copy");
    ASSERT_TRUE(r.runtime) << r.error;
    EXPECT_NE(r.log.find("cache directory '" + (state.path() / "cache").string() +
                         "': copy storage (cache.storage)"),
              std::string::npos)
        << r.log;
    r.runtime.reset();
    auto detected = startDaemon(state, state.path() / "cache", "auto");
    ASSERT_TRUE(detected.runtime) << detected.error;
    EXPECT_NE(detected.log.find("storage (detected)"), std::string::npos) << detected.log;
    if (filesystemOf(state.path()) == EXT4_SUPER_MAGIC) {
        EXPECT_NE(detected.log.find("has neither btrfs subvolumes nor reflinks"), std::string::npos)
            << detected.log;
        EXPECT_EQ(r.log.find("has neither btrfs subvolumes nor reflinks"), std::string::npos)
            << "a forced copy is not warned about";
    }
}

// Jobs' directories are on the cache's filesystem (so roots and checkouts can be snapshots), in a
// directory of the daemon's own; the start-up sweep empties it.
TEST(DaemonRuntimeJobDirs, JobDirectoriesLiveInTheCacheDirectory) {
    base::TempDir state("nixjail-runtime-test-");
    const auto jobs =
        state.path() / "cache" / "jobs" /
        ("nixjail-daemon-" +
         forge::runnerFileFromSecret("http://127.0.0.1:9", std::string(40, 'a'), "t").uuid);
    std::filesystem::create_directories(jobs / "nixjail-job-left");
    auto r = startDaemon(state, state.path() / "cache", "copy");
    ASSERT_TRUE(r.runtime) << r.error;
    EXPECT_TRUE(std::filesystem::is_directory(jobs));
    EXPECT_FALSE(std::filesystem::exists(jobs / "nixjail-job-left")) << "swept at start";
    r.runtime.reset();
    EXPECT_FALSE(std::filesystem::exists(jobs)) << "removed when the daemon ends";
}

// The jail's setup runs as the jail's host ids, which must traverse every directory above the
// jobs' directories: a cache directory they cannot reach stops the start with the fix.
TEST(DaemonRuntimeJobDirs, ACacheDirectoryTheJailsCannotReachStopsTheStart) {
    if (::geteuid() != 0) {
        const char* strict = std::getenv("NIXJAIL_TESTS_STRICT");
        if (strict && std::string(strict) == "1") FAIL() << "needs root for the namespace executor";
        GTEST_SKIP() << "needs root for the namespace executor (euid is not 0)";
    }
    base::TempDir state("nixjail-runtime-test-");  // 0700
    auto r = startDaemon(state, state.path() / "cache", "copy", "namespace");
    EXPECT_FALSE(r.runtime);
    EXPECT_NE(
        r.error.find("'" + state.path().string() + "' is not searchable by others; chmod o+x"),
        std::string::npos)
        << r.error;
    std::filesystem::permissions(state.path(), std::filesystem::perms::others_exec,
                                 std::filesystem::perm_options::add);
    auto reachable = startDaemon(state, state.path() / "cache", "copy", "namespace");
    EXPECT_TRUE(reachable.runtime) << reachable.error;
}

TEST(DaemonRuntimeStorage, ForcedBtrfsOutsideBtrfsStopsTheStart) {
    base::TempDir state("nixjail-runtime-test-");
    if (filesystemOf(state.path()) == BTRFS_SUPER_MAGIC) GTEST_SKIP() << "the temp dir is on btrfs";
    auto r = startDaemon(state, state.path() / "cache", "btrfs");
    EXPECT_FALSE(r.runtime);
    EXPECT_NE(r.error.find("cache directory '" + (state.path() / "cache").string()),
              std::string::npos)
        << r.error;
    EXPECT_NE(r.error.find("cannot use storage 'btrfs': it is on "), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("move the cache directory onto a btrfs filesystem"), std::string::npos)
        << r.error;
}

TEST(DaemonRuntimeStorage, ForcedReflinkOnTmpfsStopsTheStart) {
    if (!std::filesystem::is_directory("/dev/shm") || filesystemOf("/dev/shm") != TMPFS_MAGIC)
        GTEST_SKIP() << "/dev/shm is not a tmpfs here";
    base::TempDir state("nixjail-runtime-test-");
    base::TempDir cache_dir("nixjail-runtime-cache-", "/dev/shm");
    auto r = startDaemon(state, cache_dir.path(), "reflink");
    EXPECT_FALSE(r.runtime);
    EXPECT_NE(r.error.find("cannot use storage 'reflink': its filesystem (tmpfs) cannot share file "
                           "extents"),
              std::string::npos)
        << r.error;
}

}  // namespace
}  // namespace nixjail::runner::daemon
