// Test-only: a git repository driven through the git CLI, to serve as a remote.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "runner/base/file_io.h"
#include "workspace-cache/command_output.h"

namespace nixjail::cache::testing {

class GitTestRepo {
  public:
    // With init = false, wraps an existing work tree (e.g. a checked-out workspace).
    explicit GitTestRepo(std::filesystem::path dir, bool init = true) : dir_(std::move(dir)) {
        if (!init) return;
        std::filesystem::create_directories(dir_);
        git({"init", "-q", "-b", "main"});
    }
    const std::filesystem::path& dir() const { return dir_; }
    std::string url() const { return "file://" + dir_.string(); }

    std::string git(const std::vector<std::string>& args) const {
        std::vector<std::string> argv = {"git", "-C", dir_.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        CommandOutput r =
            runCommand(argv, {"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid",
                              "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid",
                              "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent"});
        EXPECT_EQ(r.exit_code, 0) << "git " << args[0] << ": " << r.err;
        while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
        return r.out;
    }
    // Writes files (path -> content) and commits them; returns the new commit id.
    std::string commit(const std::vector<std::pair<std::string, std::string>>& files,
                       const std::string& msg) {
        for (const auto& [path, content] : files) {
            std::filesystem::create_directories((dir_ / path).parent_path());
            base::writeFile(dir_ / path, content);
        }
        git({"add", "-A"});
        git({"commit", "-q", "-m", msg});
        return git({"rev-parse", "HEAD"});
    }

  private:
    std::filesystem::path dir_;
};

}  // namespace nixjail::cache::testing
