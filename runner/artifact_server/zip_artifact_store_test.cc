// ZipArtifactStore on a temp dir: blocks committed in list order, finalize checks the size and is
// the only way to NAME.zip, replaced and unknown uploads, deletes, and cleanup of staging.
#include "runner/artifact_server/zip_artifact_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::artifact_server {
namespace {

namespace fs = std::filesystem;

int statusOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const ArtifactRefused& e) {
        return e.status();
    }
    return 0;
}

std::string readAll(OpenedFile f) {
    std::string out(f.size, '\0');
    EXPECT_EQ(::pread(f.fd.get(), out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
    return out;
}

class ZipArtifactStoreTest : public ::testing::Test {
  protected:
    void stage(std::uint64_t id, const std::string& block, const std::string& data) {
        auto f = store_.stageBlock("7", "dist", id, block);
        f.write(data);
        f.commit();
    }

    base::TempDir tmp_{"nixjail-zipstore-"};
    ZipArtifactStore store_{tmp_.path()};
};

TEST_F(ZipArtifactStoreTest, BlocksCommitInListOrderAndFinalizeMakesTheZipVisible) {
    const auto id = store_.create("7", "dist", "job1");
    stage(id, "QQ==", "aaa");
    stage(id, "Qg==", "bb");
    stage(id, "Qw==", "never committed");
    EXPECT_EQ(store_.commitBlocks("7", "dist", id, {"Qg==", "QQ==", "Qg=="}), 7u);
    const fs::path zip = tmp_.path() / "v4" / "7" / "dist.zip";
    EXPECT_FALSE(fs::exists(zip));  // not before finalize
    EXPECT_TRUE(store_.list("7").empty());
    EXPECT_EQ(store_.finalize("7", "dist", 7, "sha256:ab"), id);
    EXPECT_EQ(base::readFile(zip), "bbaaabb");
    EXPECT_FALSE(fs::exists(tmp_.path() / "v4" / "7" / ".staging" / std::to_string(id)));
    auto listed = store_.list("7");
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].name, "dist");
    EXPECT_EQ(listed[0].job, "job1");
    EXPECT_EQ(listed[0].size, 7u);
    EXPECT_EQ(listed[0].digest, "sha256:ab");
    EXPECT_EQ(store_.list("7", "dist", id).size(), 1u);
    EXPECT_TRUE(store_.list("7", "other").empty());
    EXPECT_TRUE(store_.list("7", std::nullopt, id + 1).empty());
    EXPECT_TRUE(store_.list("8").empty());
    EXPECT_EQ(readAll(store_.open("7", "dist", id)), "bbaaabb");
    // One artifact per name: a second create is refused until it is deleted.
    EXPECT_EQ(statusOf([&] { store_.create("7", "dist", "job2"); }), 409);
    EXPECT_EQ(store_.remove("7", "dist"), id);
    EXPECT_FALSE(fs::exists(zip));
    EXPECT_EQ(statusOf([&] { store_.open("7", "dist", id); }), 404);
    EXPECT_EQ(statusOf([&] { store_.remove("7", "dist"); }), 404);
}

TEST_F(ZipArtifactStoreTest, FinalizeChecksTheUpload) {
    EXPECT_EQ(statusOf([&] { store_.finalize("7", "dist", 0, ""); }), 404);
    const auto id = store_.create("7", "dist", "");
    EXPECT_EQ(statusOf([&] { store_.finalize("7", "dist", 0, ""); }), 409);  // nothing uploaded
    auto blob = store_.stageBlob("7", "dist", id);
    blob.write("12345");
    blob.commit();
    EXPECT_EQ(statusOf([&] { store_.finalize("7", "dist", 4, ""); }), 400);
    EXPECT_TRUE(store_.list("7").empty());
    EXPECT_EQ(store_.finalize("7", "dist", 5, ""), id);
    EXPECT_EQ(statusOf([&] { store_.stageBlob("7", "dist", id); }), 404);  // finalized
}

TEST_F(ZipArtifactStoreTest, ACommitNeedsEveryBlockAndAnUnfinishedFileLeavesNothing) {
    const auto id = store_.create("7", "dist", "");
    stage(id, "QQ==", "a");
    EXPECT_EQ(statusOf([&] { store_.commitBlocks("7", "dist", id, {"QQ==", "Qg=="}); }), 400);
    {
        auto f = store_.stageBlock("7", "dist", id, "Qg==");
        f.write("half");
    }  // never committed: its temporary file is gone
    const fs::path blocks = tmp_.path() / "v4" / "7" / ".staging" / std::to_string(id) / "blocks";
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(blocks)) ++files;
    EXPECT_EQ(files, 1u);
    EXPECT_EQ(statusOf([&] { store_.stageBlock("7", "dist", id, ""); }), 400);
}

TEST_F(ZipArtifactStoreTest, ARetriedCreateReplacesThePendingUpload) {
    const auto first = store_.create("7", "dist", "");
    stage(first, "QQ==", "old");
    const auto second = store_.create("7", "dist", "");
    EXPECT_NE(first, second);
    EXPECT_EQ(statusOf([&] { store_.stageBlock("7", "dist", first, "QQ=="); }), 404);
    EXPECT_EQ(statusOf([&] { store_.commitBlocks("7", "dist", second, {"QQ=="}); }), 400);
    EXPECT_FALSE(fs::exists(tmp_.path() / "v4" / "7" / ".staging" / std::to_string(first)));
}

TEST_F(ZipArtifactStoreTest, NamesThatWouldEscapeAreRefused) {
    for (const char* bad : {"", "..", ".", "a/b", "a\\b", "x\n"})
        EXPECT_EQ(statusOf([&] { store_.create("7", bad, ""); }), 400) << bad;
    EXPECT_EQ(statusOf([&] { store_.create("../x", "dist", ""); }), 400);
}

TEST(ZipArtifactStore, LeftoversOfAnEarlierProcessAreNotReused) {
    base::TempDir tmp("nixjail-zipstore-");
    const fs::path stale = tmp.path() / "v4" / "7" / ".staging" / "1";
    fs::create_directories(stale / "blocks");
    base::writeFile(stale / "blocks" / "51513d3d", "stale block");  // hex of "QQ=="
    base::writeFile(stale / ".tmp-1", "stale temporary file");
    ZipArtifactStore store(tmp.path());
    const auto id = store.create("7", "dist", "");
    EXPECT_EQ(id, 1u);
    auto f = store.stageBlob("7", "dist", id);  // the same temporary name is free again
    f.write("new");
    f.commit();
    EXPECT_EQ(store.finalize("7", "dist", 3, ""), id);
    EXPECT_EQ(base::readFile(tmp.path() / "v4" / "7" / "dist.zip"), "new");
}

TEST(ZipArtifactStore, UnfinishedUploadsAreRemovedWithTheStore) {
    base::TempDir tmp("nixjail-zipstore-");
    {
        ZipArtifactStore store(tmp.path());
        const auto id = store.create("7", "dist", "");
        auto f = store.stageBlock("7", "dist", id, "QQ==");
        f.write("a");
        f.commit();
    }
    EXPECT_FALSE(fs::exists(tmp.path() / "v4" / "7" / ".staging"));
}

TEST(ZipArtifactStore, TheQuotaCountsStagedBytesAndGetsBackWhatIsRemoved) {
    base::TempDir tmp("nixjail-zipstore-");
    auto quota = std::make_shared<ArtifactQuota>(10);
    ZipArtifactStore store(tmp.path(), quota);
    auto id = store.create("1", "a", "job");
    {
        auto f = store.stageBlock("1", "a", id, "b1");
        f.write("123456");
        f.commit();
    }
    EXPECT_EQ(quota->used(), 6u);
    {
        auto f = store.stageBlob("1", "a", id);
        EXPECT_EQ(statusOf([&] { f.write("12345"); }), 413);
    }
    EXPECT_EQ(quota->used(), 6u);  // the refused blob was removed
    // Committing needs room for the blob beside its blocks.
    EXPECT_EQ(statusOf([&] { store.commitBlocks("1", "a", id, {"b1"}); }), 413);
    EXPECT_EQ(quota->used(), 6u);
    id = store.create("1", "a", "job");  // a retried upload drops what was staged
    EXPECT_EQ(quota->used(), 0u);
    {
        auto f = store.stageBlob("1", "a", id);
        f.write("1234");
        f.commit();
    }
    store.finalize("1", "a", 4, "");
    EXPECT_EQ(quota->used(), 4u);
    store.remove("1", "a");
    EXPECT_EQ(quota->used(), 0u);
}

}  // namespace
}  // namespace nixjail::runner::artifact_server
