// A job's own size-limited volume on a real loop device: writes stop at its size with ENOSPC, and
// nothing (mount, loop device, image) is left once it is gone.
#include "workspace-cache/job_volume.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "runner/base/error.h"
#include "runner/base/mount_table.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "tests/integration/require.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

// Loop devices whose backing file is `image`.
int loopsBackedBy(const fs::path& image) {
    int n = 0;
    for (const auto& e : fs::directory_iterator("/sys/block")) {
        std::ifstream in(e.path() / "loop" / "backing_file");
        std::string backing;
        if (std::getline(in, backing) && backing.rfind(image.string(), 0) == 0) ++n;
    }
    return n;
}

// Writes 1 MiB blocks until the filesystem refuses; the errno of the refusal.
int fillUntilRefused(const fs::path& file, size_t max_mib) {
    base::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) return errno;
    const std::vector<char> block(1 << 20, 'x');
    for (size_t i = 0; i < max_mib; ++i) {
        size_t done = 0;
        while (done < block.size()) {
            ssize_t n = ::write(fd.get(), block.data() + done, block.size() - done);
            if (n < 0) return errno;
            done += static_cast<size_t>(n);
        }
    }
    return ::fsync(fd.get()) == 0 ? 0 : errno;
}

TEST(JobVolume, WritesStopAtItsSizeAndNothingIsLeftAfterIt) {
    const std::string why = JobVolume::unavailableReason();
    NIXJAIL_REQUIRE(why.empty(), why);
    base::TempDir dir("nixjail-volume-test-");
    const fs::path image = dir.path() / "volume.img", mnt = dir.path() / "volume";
    {
        JobVolume volume(image, mnt, 32ull << 20);
        EXPECT_TRUE(base::isMountPoint(mnt));
        EXPECT_EQ(loopsBackedBy(image), 1);
        EXPECT_TRUE(fs::is_empty(mnt)) << "no lost+found in the job's directory";
        EXPECT_EQ(fillUntilRefused(mnt / "big", 64), ENOSPC);
        const auto usage = volume.usage();
        EXPECT_LE(usage.used_bytes, 32ull << 20);
        EXPECT_GE(usage.used_bytes, 16ull << 20);
        EXPECT_LT(usage.available_bytes, 1ull << 20);
        // The image on the host holds only what was written: it never outgrows the volume.
        struct stat st {};
        ASSERT_EQ(::stat(image.c_str(), &st), 0);
        EXPECT_LE(static_cast<uint64_t>(st.st_blocks) * 512, (32ull << 20) + (1 << 20));
    }
    EXPECT_FALSE(base::isMountPoint(mnt));
    EXPECT_EQ(loopsBackedBy(image), 0);
    EXPECT_FALSE(fs::exists(image));
    EXPECT_FALSE(fs::exists(mnt));
}

TEST(JobVolume, ATinyQuotaIsRefusedWithTheFix) {
    base::TempDir dir("nixjail-volume-test-");
    try {
        JobVolume volume(dir.path() / "v.img", dir.path() / "v", 1 << 20);
        FAIL() << "a 1 MiB volume was made";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("below 16 MiB"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir.path() / "v.img"));
}

TEST(JobVolume, AnImageThatExistsIsNotOverwritten) {
    const std::string why = JobVolume::unavailableReason();
    NIXJAIL_REQUIRE(why.empty(), why);
    base::TempDir dir("nixjail-volume-test-");
    std::ofstream(dir.path() / "v.img") << "precious";
    EXPECT_THROW(JobVolume(dir.path() / "v.img", dir.path() / "v", 32ull << 20), base::Error);
    std::ifstream in(dir.path() / "v.img");
    std::string text;
    in >> text;
    EXPECT_EQ(text, "precious");
}

}  // namespace
}  // namespace nixjail::cache
