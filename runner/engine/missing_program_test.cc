// A step's program missing from the job's root: found on the host as the jail would resolve it,
// and said by name with the package to declare.
#include "runner/engine/missing_program.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::engine {
namespace {

namespace fs = std::filesystem;

void executable(const fs::path& p) {
    fs::create_directories(p.parent_path());
    base::writeFile(p, "#!/bin/sh\n");
    ::chmod(p.c_str(), 0755);
}

// A root like a job's: one store path with bash, /bin/sh linking into it (absolute, as in the
// jail), and a workspace bind with a tool of its own.
class MissingProgramTest : public ::testing::Test {
  protected:
    void SetUp() override {
        executable(root() / "nix/store/abc-bash/bin/bash");
        fs::create_directories(root() / "bin");
        fs::create_symlink("/nix/store/abc-bash/bin/bash", root() / "bin/sh");
        base::writeFile(root() / "nix/store/abc-bash/bin/not-executable", "");
        executable(workspace() / "tools/build");
        fs::create_symlink("/etc/passwd", workspace() / "tools/link");
        binds_ = {{workspace(), "/workspace", true}};
    }
    fs::path root() const { return dir_.path() / "root"; }
    fs::path workspace() const { return dir_.path() / "ws"; }
    ProgramPresence find(const std::string& path, const std::string& program) const {
        return findProgram(root(), binds_, path, program);
    }
    base::TempDir dir_;
    std::vector<executor::BindMount> binds_;
};

TEST_F(MissingProgramTest, ProgramsAreLookedUpInTheRootNotOnTheHost) {
    const std::string path = "/nix/store/abc-bash/bin:/usr/bin:/bin";
    EXPECT_EQ(find(path, "bash"), ProgramPresence::kPresent);
    EXPECT_EQ(find(path, "sh"), ProgramPresence::kPresent) << "an absolute link resolves inside the root";
    EXPECT_EQ(find(path, "python3"), ProgramPresence::kMissing);
    // The host has env, ls and cat; the root does not.
    EXPECT_EQ(find(path, "env"), ProgramPresence::kMissing);
    EXPECT_EQ(find(path, "/usr/bin/env"), ProgramPresence::kMissing);
    EXPECT_EQ(find(path, "/bin/sh"), ProgramPresence::kPresent);
    EXPECT_EQ(find(path, "not-executable"), ProgramPresence::kUnknown) << "the jail's EACCES says it";
}

TEST_F(MissingProgramTest, BindsAreLookedUpWithoutFollowingLinks) {
    EXPECT_EQ(find("/workspace/tools", "build"), ProgramPresence::kPresent);
    EXPECT_EQ(find("/workspace/tools", "missing"), ProgramPresence::kMissing);
    EXPECT_EQ(find("/workspace/tools", "link"), ProgramPresence::kUnknown);
}

TEST_F(MissingProgramTest, WhatOnlyTheJailCanSeeIsUnknown) {
    EXPECT_EQ(find("/bin:bin", "python3"), ProgramPresence::kUnknown) << "relative to the step's cwd";
    EXPECT_EQ(find("/bin::/usr/bin", "python3"), ProgramPresence::kUnknown) << "an empty entry is the cwd";
    EXPECT_EQ(find("/tmp/bin:/bin", "python3"), ProgramPresence::kUnknown);
    EXPECT_EQ(find("/bin", "./configure"), ProgramPresence::kUnknown);
}

TEST(MissingProgram, TheShellsNotFoundLines) {
    EXPECT_EQ(programNotFoundIn("/runner/temp/abc.sh: line 3: python3: command not found"), "python3");
    EXPECT_EQ(programNotFoundIn("bash: jq: command not found\r"), "jq");
    EXPECT_EQ(programNotFoundIn("/runner/temp/abc.sh: 12: make: not found"), "make");
    EXPECT_EQ(programNotFoundIn("error: file: not found"), "");
    EXPECT_EQ(programNotFoundIn("./build.sh: No such file or directory"), "");
    EXPECT_EQ(programNotFoundIn("x.sh: line 1: ./tool: command not found"), "");
    EXPECT_EQ(programNotFoundIn("command not found"), "");
}

TEST(MissingProgram, TheMessageNamesThePackage) {
    EXPECT_EQ(missingProgramMessage("python3"),
              "python3: not in this job's root; declare a package that provides it, e.g. python3");
    EXPECT_EQ(packageProviding("make"), "gnumake");
    EXPECT_EQ(packageProviding("xargs"), "findutils");
    EXPECT_EQ(packageProviding("awk"), "gawk");
    EXPECT_EQ(packageProviding("rg"), "rg");
    EXPECT_EQ(missingProgramMessage("npm", " (note)"),
              "npm: not in this job's root; declare a package that provides it, e.g. nodejs (note)");
}

// A jail that "runs" a step by writing scripted output and exit code.
class ScriptedJail : public executor::Jail {
  public:
    ScriptedJail(std::string output, int exit_code, int* runs) : output_(std::move(output)), exit_(exit_code), runs_(runs) {}
    executor::StepResult run(const executor::StepInvocation& step) override {
        ++*runs_;
        if (step.on_output) step.on_output(output_);
        executor::StepResult r;
        r.exit_code = exit_;
        return r;
    }

  private:
    std::string output_;
    int exit_;
    int* runs_;
};

TEST_F(MissingProgramTest, AStepWhoseProgramIsMissingDoesNotStart) {
    int runs = 0;
    auto jail = checkProgramsInRoot(std::make_unique<ScriptedJail>("", 0, &runs), root(), binds_, "");
    executor::StepInvocation step;
    step.argv = {"python", "/runner/temp/x.py"};
    step.env = {"PATH=/nix/store/abc-bash/bin:/bin"};
    const auto r = jail->run(step);
    EXPECT_EQ(runs, 0);
    EXPECT_EQ(r.setup_error, "python: not in this job's root; declare a package that provides it, e.g. python3");
    step.argv = {"bash", "-e", "/runner/temp/x.sh"};
    EXPECT_TRUE(jail->run(step).setup_error.empty());
    EXPECT_EQ(runs, 1);
}

TEST_F(MissingProgramTest, AScriptsCommandNotFoundGetsTheHintAfterItsOutput) {
    int runs = 0;
    std::string seen;
    auto jail = checkProgramsInRoot(
        std::make_unique<ScriptedJail>("hello\n/runner/temp/x.sh: line 2: python3: command not found\n"
                                       "/runner/temp/x.sh: line 3: bash: command not found",
                                       127, &runs),
        root(), binds_, " (note)");
    executor::StepInvocation step;
    step.argv = {"bash", "-e", "/runner/temp/x.sh"};
    step.env = {"PATH=/nix/store/abc-bash/bin"};
    step.on_output = [&](std::string_view chunk) { seen += chunk; };
    jail->run(step);
    // bash is in the root (its "not found" had another cause): no hint for it.
    EXPECT_EQ(seen,
              "hello\n/runner/temp/x.sh: line 2: python3: command not found\n"
              "/runner/temp/x.sh: line 3: bash: command not found\n"
              "::error::python3: not in this job's root; declare a package that provides it, e.g. python3 (note)\n");
}

TEST_F(MissingProgramTest, ASucceedingStepGetsNoHint) {
    int runs = 0;
    std::string seen;
    auto jail = checkProgramsInRoot(
        std::make_unique<ScriptedJail>("x.sh: line 1: jq: command not found\n", 0, &runs), root(), binds_, "");
    executor::StepInvocation step;
    step.argv = {"bash"};
    step.env = {"PATH=/nix/store/abc-bash/bin"};
    step.on_output = [&](std::string_view chunk) { seen += chunk; };
    jail->run(step);
    EXPECT_EQ(seen, "x.sh: line 1: jq: command not found\n");
}

}  // namespace
}  // namespace nixjail::runner::engine
