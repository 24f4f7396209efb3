#include "runner/base/beneath.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::base {
namespace {

namespace fs = std::filesystem;

class BeneathTest : public ::testing::Test {
  protected:
    TempDir tmp_{"beneath-test-"};
    fs::path dir_ = tmp_.path() / "job";
    fs::path outside_ = tmp_.path() / "host-secret";
    UniqueFd fd_;

    void SetUp() override {
        fs::create_directories(dir_);
        writeFile(outside_, "HOSTVAR=PLANTED\n");
        fd_ = openDirectoryNoFollow(dir_, "the test directory");
    }
    std::string message(const std::function<void()>& f) {
        try {
            f();
        } catch (const Error& e) {
            return e.what();
        }
        return "(no error)";
    }
};

TEST_F(BeneathTest, ReadsAPlainFileAndTreatsAMissingOneAsAbsent) {
    writeFile(dir_ / "env", "A=1\n");
    EXPECT_EQ(readStepFile(fd_.get(), "env", 1024, "GITHUB_ENV"), "A=1\n");
    EXPECT_EQ(readStepFile(fd_.get(), "gone", 1024, "GITHUB_ENV"), std::nullopt);
}

TEST_F(BeneathTest, RefusesASymlinkAndNeverReadsItsTarget) {
    fs::create_symlink(outside_, dir_ / "env");
    EXPECT_EQ(message([&] { readStepFile(fd_.get(), "env", 1024, "GITHUB_ENV"); }),
              "GITHUB_ENV was replaced by a symbolic link; refusing to read it");
    // A relative link that stays inside is refused too: the runner never follows links here.
    writeFile(dir_ / "other", "x");
    fs::create_symlink("other", dir_ / "rel");
    EXPECT_NE(message([&] { readStepFile(fd_.get(), "rel", 1024, "GITHUB_ENV"); }), "(no error)");
}

TEST_F(BeneathTest, RefusesAFifoWithoutBlocking) {
    ASSERT_EQ(::mkfifo((dir_ / "env").c_str(), 0644), 0);
    EXPECT_EQ(message([&] { readStepFile(fd_.get(), "env", 1024, "GITHUB_ENV"); }),
              "GITHUB_ENV was replaced by a FIFO; refusing to read it");
}

TEST_F(BeneathTest, RefusesADirectoryAndAHardLink) {
    fs::create_directory(dir_ / "env");
    EXPECT_EQ(message([&] { readStepFile(fd_.get(), "env", 1024, "GITHUB_ENV"); }),
              "GITHUB_ENV was replaced by a directory; refusing to read it");
    ASSERT_EQ(::link(outside_.c_str(), (dir_ / "out").c_str()), 0);
    EXPECT_NE(message([&] { readStepFile(fd_.get(), "out", 1024, "GITHUB_OUTPUT"); })
                  .find("GITHUB_OUTPUT has 2 hard links"),
              std::string::npos);
}

TEST_F(BeneathTest, RefusesAFileOverTheLimit) {
    writeFile(dir_ / "summary", std::string(4096, 'x'));
    EXPECT_EQ(message([&] { readStepFile(fd_.get(), "summary", 2048, "GITHUB_STEP_SUMMARY"); }),
              "GITHUB_STEP_SUMMARY is larger than the 2 KiB the runner reads; write less to it");
    EXPECT_EQ(readStepFile(fd_.get(), "summary", 4096, "x")->size(), 4096u);
}

TEST_F(BeneathTest, OpenBeneathNeverLeavesTheDirectory) {
    fs::create_directory(dir_ / "sub");
    fs::create_symlink(tmp_.path(), dir_ / "sub" / "up");
    fs::create_symlink("../..", dir_ / "sub" / "climb");
    EXPECT_FALSE(openBeneath(fd_.get(), "sub/up/host-secret", O_RDONLY));
    EXPECT_FALSE(openBeneath(fd_.get(), "sub/up/host-secret", O_RDONLY, true));
    EXPECT_FALSE(openBeneath(fd_.get(), "sub/climb/host-secret", O_RDONLY, true));
    EXPECT_FALSE(openBeneath(fd_.get(), "../host-secret", O_RDONLY, true));
    writeFile(dir_ / "sub" / "file", "in");
    fs::create_symlink("file", dir_ / "sub" / "alias");
    EXPECT_TRUE(openBeneath(fd_.get(), "sub/alias", O_RDONLY, true));
    EXPECT_FALSE(openBeneath(fd_.get(), "sub/alias", O_RDONLY, false));
}

TEST_F(BeneathTest, CreateStepFileRefusesWhateverIsAlreadyThere) {
    fs::create_symlink(outside_, dir_ / "planted");
    EXPECT_THROW(createStepFile(fd_.get(), "planted", 0644, "the step's script"), SysError);
    EXPECT_EQ(readFile(outside_), "HOSTVAR=PLANTED\n");
    auto fd = createStepFile(fd_.get(), "fresh", 0600, "a file");
    struct stat st {};
    ASSERT_EQ(::fstat(fd.get(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// The same refusal when the runner writes a file for a step (its script), and the content lands.
TEST_F(BeneathTest, WriteStepFileRefusesALinkAndWritesAFreshFile) {
    fs::create_symlink(outside_, dir_ / "planted.sh");
    EXPECT_THROW(writeStepFile(fd_.get(), "planted.sh", 0644, "echo hi\n", "the step's script"), SysError);
    EXPECT_EQ(readFile(outside_), "HOSTVAR=PLANTED\n");
    writeStepFile(fd_.get(), "fresh.sh", 0644, "echo hi\n", "the step's script");
    EXPECT_EQ(readFile(dir_ / "fresh.sh"), "echo hi\n");
}

TEST_F(BeneathTest, MakeDirectoryInRefusesALink) {
    fs::create_symlink(tmp_.path(), dir_ / "cmds");
    EXPECT_EQ(message([&] { makeDirectoryIn(fd_.get(), "cmds", "the command files' directory"); }),
              "the command files' directory was replaced by a symbolic link; refusing to use it");
    EXPECT_TRUE(makeDirectoryIn(fd_.get(), "real", "a directory"));
    EXPECT_TRUE(makeDirectoryIn(fd_.get(), "real", "a directory"));  // kept
}

TEST_F(BeneathTest, FirstNonDirectoryBeneathFindsTheLink) {
    fs::create_directories(dir_ / "a" / "b");
    fs::create_symlink("/etc", dir_ / "a" / "link");
    EXPECT_EQ(firstNonDirectoryBeneath(dir_, "a/b/c/d"), std::nullopt);
    EXPECT_EQ(firstNonDirectoryBeneath(dir_, "a/link/passwd"), fs::path("a/link"));
    EXPECT_EQ(normalizedBeneath("./a/../b"), fs::path("b"));
    EXPECT_EQ(normalizedBeneath("../b"), std::nullopt);
    EXPECT_EQ(normalizedBeneath("/b"), std::nullopt);
}

TEST_F(BeneathTest, PlainPathBeneathOfNothingIsTheBaseItself) {
    // actions/checkout without `path:`: the workspace, not "workspace/" (whose parent_path() is
    // the workspace again).
    EXPECT_EQ(plainPathBeneath(dir_, "", "path"), dir_);
    EXPECT_EQ(plainPathBeneath(dir_, ".", "path"), dir_);
    EXPECT_EQ(plainPathBeneath(dir_, "sub/dir", "path"), dir_ / "sub/dir");
}

}  // namespace
}  // namespace nixjail::base
