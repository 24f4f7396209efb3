// Test-only: the behaviour every Storage backend must show, run by the unit tests (copy, and
// reflink where the filesystem allows) and by tests/integration on a real btrfs (all three).
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "workspace-cache/storage.h"

namespace nixjail::cache::testing {

namespace fs = std::filesystem;

inline mode_t modeOf(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

// Fills a tree with the shapes caches meet: nested dirs, an executable, a symlink, a read-only dir.
inline void fillSampleTree(const fs::path& t) {
    fs::create_directories(t / "src" / "deep");
    base::writeFile(t / "src" / "deep" / "a.txt", "alpha\n");
    base::writeFile(t / "run.sh", "#!/bin/sh\necho hi\n");
    ::chmod((t / "run.sh").c_str(), 0755);
    fs::create_symlink("src/deep/a.txt", t / "link");
    fs::create_directories(t / "ro");
    base::writeFile(t / "ro" / "f", "read-only\n");
    ::chmod((t / "ro" / "f").c_str(), 0444);
    ::chmod((t / "ro").c_str(), 0555);
}

inline void expectSampleTree(const fs::path& t) {
    EXPECT_EQ(base::readFile(t / "src" / "deep" / "a.txt"), "alpha\n");
    EXPECT_EQ(modeOf(t / "run.sh"), 0755u);
    EXPECT_TRUE(fs::is_symlink(t / "link"));
    EXPECT_EQ(fs::read_symlink(t / "link"), "src/deep/a.txt");
    EXPECT_EQ(modeOf(t / "ro"), 0555u);
    EXPECT_EQ(modeOf(t / "ro" / "f"), 0444u);
    EXPECT_EQ(base::readFile(t / "ro" / "f"), "read-only\n");
}

// `dir` is an empty directory on the filesystem under test.
inline void runStorageConformance(Storage& s, const fs::path& dir) {
    SCOPED_TRACE(std::string("backend ") + std::string(toString(s.kind())) + " in " + dir.string());
    // create + snapshot keep content, modes and symlinks
    s.create(dir / "src");
    EXPECT_TRUE(fs::is_directory(dir / "src"));
    fillSampleTree(dir / "src");
    s.snapshot(dir / "src", dir / "snap");
    expectSampleTree(dir / "snap");

    // the copy is independent in both directions
    base::writeFile(dir / "snap" / "src" / "deep" / "a.txt", "changed\n");
    base::writeFile(dir / "src" / "new.txt", "only in src\n");
    EXPECT_EQ(base::readFile(dir / "src" / "src" / "deep" / "a.txt"), "alpha\n");
    EXPECT_FALSE(fs::exists(dir / "snap" / "new.txt"));

    // a snapshot of a snapshot works (jobs snapshot entries that were snapshots)
    s.snapshot(dir / "snap", dir / "snap2");
    EXPECT_EQ(base::readFile(dir / "snap2" / "src" / "deep" / "a.txt"), "changed\n");

    // snapshot onto an existing path fails and leaves it alone
    EXPECT_THROW(s.snapshot(dir / "src", dir / "snap"), base::Error);
    EXPECT_EQ(base::readFile(dir / "snap" / "src" / "deep" / "a.txt"), "changed\n");

    // copyIn of a plain directory with read-only parts, into a tree
    fs::create_directories(dir / "plain");
    fillSampleTree(dir / "plain" / "pkg");
    s.copyIn(dir / "plain" / "pkg", dir / "snap2" / "pkg");
    expectSampleTree(dir / "snap2" / "pkg");

    // remove takes read-only content too, and a missing path is fine
    s.remove(dir / "snap2");
    s.remove(dir / "snap");
    s.remove(dir / "src");
    EXPECT_FALSE(fs::exists(dir / "snap2"));
    EXPECT_FALSE(fs::exists(dir / "snap"));
    EXPECT_FALSE(fs::exists(dir / "src"));
    EXPECT_NO_THROW(s.remove(dir / "never-made"));

    // leases remove unless promoted
    {
        SubvolumeLease lease = SubvolumeLease::create(s, dir / "leased");
        base::writeFile(dir / "leased" / "x", "x");
    }
    EXPECT_FALSE(fs::exists(dir / "leased"));
    {
        SubvolumeLease lease = SubvolumeLease::create(s, dir / "tmp-entry");
        base::writeFile(dir / "tmp-entry" / "x", "x");
        lease.promote(dir / "entry");
        EXPECT_FALSE(lease.owns());
    }
    EXPECT_EQ(base::readFile(dir / "entry" / "x"), "x");
    {
        SubvolumeLease job = SubvolumeLease::snapshotOf(s, dir / "entry", dir / "job");
        EXPECT_EQ(base::readFile(job.path() / "x"), "x");
    }
    EXPECT_FALSE(fs::exists(dir / "job"));
    s.remove(dir / "entry");
    ::chmod((dir / "plain" / "pkg" / "ro").c_str(), 0755);
}

}  // namespace nixjail::cache::testing
