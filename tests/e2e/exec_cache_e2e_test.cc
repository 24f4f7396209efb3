// End-to-end: exec starts its actions/cache server for the run; one run saves an entry through
// ACTIONS_CACHE_URL and the next restores it by exact key and by restore-key prefix.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "e2e_run.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::TempDir;
using nixjail::e2e::kSource;
using nixjail::e2e::runHostExec;

using nixjail::e2e::has;

struct ExecCacheE2E : ::testing::Test {
    TempDir tmp{"nixjail-e2e-cache-"};

    nixjail::e2e::Run exec(const std::string& job, const fs::path& summary, std::vector<std::string> extra = {}) {
        std::vector<std::string> args{
            "exec",
            "-W",
            "tests/e2e/workflows/actions_cache.yml",
            "-j",
            job,
            "--cache-server-dir",
            (tmp.path() / "actions-cache").string(),
            "--env",
            "CACHE_CLIENT=" + (kSource / "runner/cache_server/testdata/cache_client.py").string(),
            "--json-summary",
            summary.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return runHostExec(args);
    }
};

TEST_F(ExecCacheE2E, OneRunSavesAndTheNextRestoresByExactKeyAndPrefix) {
    auto save = exec("save", tmp.path() / "save.json");
    ASSERT_EQ(save.exit_code, 0) << save.out << save.err;
    EXPECT_TRUE(has(save.out, "saved deps-linux-1234")) << save.out;
    EXPECT_TRUE(has(save.out, "runtime token is ***")) << save.out;
    auto saved = nlohmann::json::parse(nixjail::base::readFile(tmp.path() / "save.json"));
    EXPECT_EQ(saved["actions_cache"]["entries_saved"], 1) << saved;

    auto restore = exec("restore", tmp.path() / "restore.json");
    ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
    EXPECT_TRUE(has(restore.out, "exact: payload-from-the-save-run")) << restore.out;
    EXPECT_TRUE(has(restore.out, "prefix: payload-from-the-save-run")) << restore.out;
    auto restored = nlohmann::json::parse(nixjail::base::readFile(tmp.path() / "restore.json"));
    EXPECT_EQ(restored["actions_cache"]["hits"], 2) << restored;
    EXPECT_EQ(restored["actions_cache"]["misses"], 1) << restored;
    EXPECT_GT(restored["actions_cache"]["bytes_downloaded"].get<int>(), 0) << restored;
    EXPECT_TRUE(fs::is_empty(tmp.path() / "actions-cache" / "uploads"));
}

TEST_F(ExecCacheE2E, NoCacheServerLeavesTheUrlUnset) {
    auto on = exec("no-server", tmp.path() / "on.json");
    ASSERT_EQ(on.exit_code, 0) << on.out << on.err;
    EXPECT_TRUE(has(on.out, "cache url is [http://127.0.0.1:")) << on.out;
    auto off = exec("no-server", tmp.path() / "off.json", {"--no-cache-server"});
    ASSERT_EQ(off.exit_code, 0) << off.out << off.err;
    EXPECT_TRUE(has(off.out, "cache url is [unset]")) << off.out;
    EXPECT_FALSE(nlohmann::json::parse(nixjail::base::readFile(tmp.path() / "off.json"))
                     .contains("actions_cache"));
}

TEST_F(ExecCacheE2E, AnUnusableCacheDirectoryWarnsAndTheRunGoesOn) {
    nixjail::base::writeFile(tmp.path() / "not-a-dir", "a file");
    auto r = runHostExec({"exec", "-W", "tests/e2e/workflows/actions_cache.yml", "-j", "no-server",
                        "--cache-server-dir", (tmp.path() / "not-a-dir" / "sub").string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.err, "running without an actions/cache server")) << r.err;
    EXPECT_TRUE(has(r.out, "cache url is [unset]")) << r.out;
}

}  // namespace
