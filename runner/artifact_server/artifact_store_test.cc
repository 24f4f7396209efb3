// ArtifactStore on a temporary directory: chunks at offsets, gzip flags, finalize and listing,
// and requests that would leave the run's directory.
#include "runner/artifact_server/artifact_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::artifact_server {
namespace {

namespace fs = std::filesystem;

std::string readAll(int fd) {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    return out;
}

int statusOfRefusal(const std::function<void()>& f) {
    try {
        f();
    } catch (const ArtifactRefused& e) {
        return e.status();
    }
    return 0;
}

TEST(ArtifactStore, ChunksInAnyOrderLandUnderRunAndName) {
    base::TempDir tmp("artifact-store-");
    ArtifactStore store(tmp.path() / "artifacts");
    const auto id = store.create("7", "dist");
    EXPECT_GT(id, 0u);
    EXPECT_EQ(store.create("7", "dist"), id);
    store.write("7", "dist/sub/b.txt", 5, "world", false);
    store.write("7", "dist/sub/b.txt", 0, "hello", false);
    store.write("7", "dist/a.gz", 0, "\x1f\x8b zipped", true);
    EXPECT_TRUE(store.finalized("7").empty());
    store.finalize("7", "dist");
    EXPECT_EQ(store.finalized("7"), std::vector<std::string>{"dist"});
    EXPECT_EQ(base::readFile(tmp.path() / "artifacts/7/dist/sub/b.txt"), "helloworld");

    auto files = store.files("7", "dist");
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].path, "dist/a.gz");
    EXPECT_TRUE(files[0].gzip);
    EXPECT_EQ(files[1].path, "dist/sub/b.txt");
    EXPECT_EQ(files[1].size, 10u);
    EXPECT_FALSE(files[1].gzip);

    auto f = store.open("7", "dist/sub/b.txt");
    EXPECT_EQ(f.size, 10u);
    EXPECT_EQ(readAll(f.fd.get()), "helloworld");
    EXPECT_TRUE(store.open("7", "dist/a.gz").gzip);
}

TEST(ArtifactStore, UploadingAFileAgainReplacesItAndItsEncoding) {
    base::TempDir tmp("artifact-store-");
    ArtifactStore store(tmp.path());
    store.create("1", "a");
    store.write("1", "a/f", 0, "a long first version", true, 20);
    store.finalize("1", "a");
    store.create("1", "a");  // a later job adds to (or replaces files of) the same artifact
    store.write("1", "a/f", 0, "short", false, 5);
    store.write("1", "a/g", 0, "other", false);
    store.finalize("1", "a");
    EXPECT_EQ(base::readFile(tmp.path() / "1/a/f"), "short");
    auto f = store.open("1", "a/f");
    EXPECT_FALSE(f.gzip);
    EXPECT_EQ(store.files("1", "a").size(), 2u);
}

TEST(ArtifactStore, RefusesUnknownUnfinishedAndEscapingRequests) {
    base::TempDir tmp("artifact-store-");
    ArtifactStore store(tmp.path() / "store");
    EXPECT_EQ(statusOfRefusal([&] { store.write("1", "nope/x", 0, "x", false); }), 404);
    store.create("1", "a");
    store.write("1", "a/x", 0, "x", false);
    EXPECT_EQ(statusOfRefusal([&] { store.files("1", "a"); }), 404);  // not finalized
    EXPECT_EQ(statusOfRefusal([&] { store.open("1", "a/x"); }), 404);
    EXPECT_EQ(statusOfRefusal([&] { store.finalize("1", "b"); }), 404);
    store.finalize("1", "a");
    EXPECT_EQ(statusOfRefusal([&] { store.write("1", "a/y", 0, "y", false); }), 409);
    EXPECT_EQ(statusOfRefusal([&] { store.open("1", "a/missing"); }), 404);
    EXPECT_EQ(statusOfRefusal([&] { store.files("2", "a"); }), 404);  // other run

    for (const std::string& bad :
         std::vector<std::string>{"../a", "a/../../../etc/x", "/etc/passwd", "a\\..\\..\\x", "a",
                                  "a//x", std::string("a/x\0y", 5)}) {
        EXPECT_EQ(statusOfRefusal([&] { store.write("1", bad, 0, "x", false); }), 400) << bad;
        EXPECT_EQ(statusOfRefusal([&] { store.open("1", bad); }), 400) << bad;
    }
    for (const std::string bad : {"..", "a/b", "", "x\\y"}) {
        EXPECT_EQ(statusOfRefusal([&] { store.create("1", bad); }), 400) << bad;
        EXPECT_EQ(statusOfRefusal([&] { store.create(bad, "a"); }), 400) << bad;
    }
    // Nothing was written outside the store's directory (a private one: /tmp is shared).
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
}

TEST(ArtifactStore, DoesNotFollowSymlinksPlantedInItsDirectory) {
    base::TempDir tmp("artifact-store-");
    ArtifactStore store(tmp.path() / "store");
    store.create("1", "a");
    base::writeFile(tmp.path() / "secret", "secret");
    fs::create_symlink(tmp.path() / "secret", tmp.path() / "store/1/a/link");
    EXPECT_THROW(store.write("1", "a/link", 0, "x", false), base::Error);
    EXPECT_EQ(base::readFile(tmp.path() / "secret"), "secret");
    store.finalize("1", "a");
    EXPECT_EQ(statusOfRefusal([&] { store.open("1", "a/link"); }), 404);
    EXPECT_TRUE(store.files("1", "a").empty());
}

TEST(ArtifactStore, ADiskErrorFailsTheWriteOnly) {
    base::TempDir tmp("artifact-store-");
    ArtifactStore store(tmp.path());
    store.create("1", "a");
    store.write("1", "a/x", 0, "x", false);
    // "a/x" is a file, so "a/x/y" cannot be made: that write fails, the store goes on.
    EXPECT_THROW(store.write("1", "a/x/y", 0, "y", false), base::Error);
    store.write("1", "a/z", 0, "z", false);
    store.finalize("1", "a");
    EXPECT_EQ(store.files("1", "a").size(), 2u);
}

TEST(ArtifactStore, TheQuotaRefusesBytesBeyondItHolesIncluded) {
    base::TempDir tmp("artifact-store-");
    auto quota = std::make_shared<ArtifactQuota>(10);
    ArtifactStore store(tmp.path(), quota);
    store.create("1", "a");
    store.create("1", "b");
    store.write("1", "a/x", 0, "12345", false);
    EXPECT_EQ(statusOfRefusal([&] { store.write("1", "a/y", 0, "123456", false); }), 413);
    // A chunk far out would make a sparse file as large as its offset: it counts as that much.
    EXPECT_EQ(statusOfRefusal([&] { store.write("1", "b/z", 1ull << 40, "x", false); }), 413);
    EXPECT_FALSE(fs::exists(tmp.path() / "1/b/z"));
    EXPECT_EQ(quota->used(), 5u);
    store.write("1", "a/x", 0, "54321", false);  // rewritten in place: nothing more
    EXPECT_EQ(quota->used(), 5u);
    // A file that can no longer be completed is removed, and its bytes are counted no more.
    store.write("1", "b/w", 0, "123", false);
    EXPECT_EQ(statusOfRefusal([&] { store.write("1", "b/w", 3, "4567", false); }), 413);
    EXPECT_FALSE(fs::exists(tmp.path() / "1/b/w"));
    EXPECT_EQ(quota->used(), 5u);
    // An artifact with a refused chunk is incomplete until that chunk is stored.
    EXPECT_EQ(statusOfRefusal([&] { store.finalize("1", "a"); }), 409);
    store.write("1", "a/y", 0, "12345", false);
    EXPECT_NO_THROW(store.finalize("1", "a"));
    EXPECT_EQ(statusOfRefusal([&] { store.finalize("1", "b"); }), 409);
}

TEST(ArtifactStore, UnusableDirectoryIsAClearError) {
    base::TempDir tmp("artifact-store-");
    base::writeFile(tmp.path() / "file", "");
    try {
        ArtifactStore store(tmp.path() / "file/sub");
        FAIL() << "expected an error";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("--artifact-server-path"), std::string::npos);
    }
}

}  // namespace
}  // namespace nixjail::runner::artifact_server
