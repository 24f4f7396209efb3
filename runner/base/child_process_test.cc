#include "runner/base/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::base {
namespace {

TEST(ChildProcess, ReportsExitCode) {
    auto child = ChildProcess::spawn({.argv = {"sh", "-c", "exit 7"}, .env = {"PATH=/usr/bin:/bin"}});
    auto st = child.wait();
    EXPECT_TRUE(st.exited());
    EXPECT_EQ(st.exitCode(), 7);
}

TEST(ChildProcess, RunsInGivenDirectoryWithGivenEnvironment) {
    TempDir dir;
    auto out = dir.path() / "out";
    Pipe p = Pipe::create();
    auto child = ChildProcess::spawn({.argv = {"sh", "-c", "pwd; echo $FOO"},
                                      .env = {"PATH=/usr/bin:/bin", "FOO=bar"},
                                      .cwd = dir.path(),
                                      .stdout_fd = p.write.get()});
    p.write.reset();
    child.wait();
    char buf[256];
    ssize_t n = ::read(p.read.get(), buf, sizeof buf);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), dir.path().string() + "\nbar\n");
}

TEST(ChildProcess, MissingProgramThrowsWithItsName) {
    try {
        ChildProcess::spawn({.argv = {"/nonexistent/prog"}});
        FAIL() << "expected an error";
    } catch (const SysError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/prog"), std::string::npos);
    }
}

TEST(ChildProcess, ProgramIsFoundInTheChildsPath) {
    TempDir dir;
    writeFile(dir.path() / "only-here", "#!/bin/sh\nexit 5\n");
    std::filesystem::permissions(dir.path() / "only-here", std::filesystem::perms::owner_all);
    auto child = ChildProcess::spawn({.argv = {"only-here"}, .env = {"PATH=/nonexistent:" + dir.path().string()}});
    EXPECT_EQ(child.wait().exitCode(), 5);
    EXPECT_THROW(ChildProcess::spawn({.argv = {"sh"}, .env = {"PATH=" + dir.path().string()}}), Error);
}

TEST(ChildProcess, DestructorKillsTheProcessGroup) {
    TempDir dir;
    auto pidFile = dir.path() / "pid";
    {
        auto child = ChildProcess::spawn(
            {.argv = {"sh", "-c", "sleep 100 & echo $! > " + pidFile.string() + "; wait"},
             .env = {"PATH=/usr/bin:/bin"}});
        while (!std::filesystem::exists(pidFile) || readFile(pidFile).empty()) ::usleep(1000);
    }
    pid_t grandchild = std::stoi(readFile(pidFile));
    // The grandchild may linger briefly as a zombie of init; it must not be running.
    for (int i = 0; i < 2000 && ::kill(grandchild, 0) == 0; ++i) {
        std::string stat = readFile("/proc/" + std::to_string(grandchild) + "/stat");
        if (stat.find(") Z") != std::string::npos) break;
        ::usleep(1000);
    }
    bool gone = ::kill(grandchild, 0) != 0 ||
                readFile("/proc/" + std::to_string(grandchild) + "/stat").find(") Z") != std::string::npos;
    EXPECT_TRUE(gone);
}

}  // namespace
}  // namespace nixjail::base
