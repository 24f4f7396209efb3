#include "runner/actions/node_action.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::actions {
namespace {

namespace fs = std::filesystem;

TEST(NodeAction, InputVariablesAreUpperCasedWithUnderscores) {
    EXPECT_EQ(inputVariable("who-to greet"), "INPUT_WHO-TO_GREET");
    EXPECT_EQ(inputVariable("name"), "INPUT_NAME");
    EXPECT_EQ(stateVariable("pid"), "STATE_pid");
}

TEST(NodeAction, RuntimesAreTheOnesGitHubAccepts) {
    EXPECT_TRUE(isNodeRuntime("node12"));
    EXPECT_TRUE(isNodeRuntime("node16"));
    EXPECT_TRUE(isNodeRuntime("node20"));
    EXPECT_TRUE(isNodeRuntime("node24"));
    EXPECT_FALSE(isNodeRuntime("node8"));
    EXPECT_FALSE(isNodeRuntime("composite"));
    EXPECT_TRUE(isRetiredNodeRuntime("node12"));
    EXPECT_TRUE(isRetiredNodeRuntime("node16"));
    EXPECT_FALSE(isRetiredNodeRuntime("node20"));
}

TEST(NodeAction, FindsAnExecutableUnderARoot) {
    base::TempDir root("nixjail-node-");
    fs::create_directories(root.path() / "a/bin");
    fs::create_directories(root.path() / "b/bin");
    base::writeFile(root.path() / "a/bin/node", "");  // not executable
    base::writeFile(root.path() / "b/bin/node", "#!/bin/sh\n");
    fs::permissions(root.path() / "b/bin/node", fs::perms::owner_all);
    EXPECT_EQ(findOnPath("/a/bin:relative:/b/bin", root.path(), "node"), fs::path("/b/bin/node"));
    EXPECT_EQ(findOnPath("/a/bin", root.path(), "node"), fs::path());
}

TEST(NodeAction, ScriptsMustStayInsideTheAction) {
    base::TempDir dir("nixjail-node-");
    base::writeFile(dir.path() / "main.js", "");
    ActionLocation where{dir.path(), "/runner/actions/x", ""};
    EXPECT_EQ(actionScript(where, "./main.js", "runs.main"), fs::path("/runner/actions/x/main.js"));
    EXPECT_THROW(actionScript(where, "../main.js", "runs.main"), base::Error);
    EXPECT_THROW(actionScript(where, "/etc/passwd", "runs.main"), base::Error);
    EXPECT_THROW(actionScript(where, "missing.js", "runs.main"), base::Error);
}

TEST(NodeAction, ScriptsMayLeaveTheActionDirectoryButNotItsRepository) {
    // actions/cache/restore@v4: `main: ../dist/restore-only/index.js`.
    base::TempDir dir("nixjail-node-");
    const fs::path repo = dir.path() / "repo";
    fs::create_directories(repo / "restore");
    fs::create_directories(repo / "dist/restore-only");
    base::writeFile(repo / "dist/restore-only/index.js", "");
    base::writeFile(dir.path() / "outside.js", "");
    fs::create_symlink("../../outside.js", repo / "dist/link.js");
    ActionLocation where{repo / "restore", "/runner/actions/o_r@v4/restore", "o/r", repo};
    EXPECT_EQ(actionScript(where, "../dist/restore-only/index.js", "runs.main"),
              fs::path("/runner/actions/o_r@v4/dist/restore-only/index.js"));
    EXPECT_THROW(actionScript(where, "../../outside.js", "runs.main"), base::Error);
    EXPECT_THROW(actionScript(where, "../dist/link.js", "runs.main"), base::Error);
    EXPECT_THROW(actionScript(where, "..", "runs.main"), base::Error);
}

TEST(NodeAction, ManifestHasPreAndPostConditions) {
    base::TempDir dir("nixjail-node-");
    base::writeFile(
        dir.path() / "action.yml",
        "name: n\ninputs:\n  Who Else: {default: '${{ github.job }}'}\nruns:\n  using: Node20\n"
        "  main: m.js\n  pre: p.js\n  post: q.js\n  post-if: failure()\n");
    const auto m = loadActionManifest(dir.path());
    EXPECT_EQ(m.using_, "node20");
    EXPECT_EQ(m.main, "m.js");
    EXPECT_EQ(m.pre, "p.js");
    EXPECT_EQ(m.post, "q.js");
    EXPECT_EQ(m.pre_if, "always()");  // the default
    EXPECT_EQ(m.post_if, "failure()");
    ASSERT_TRUE(m.inputs.count("who else"));
    EXPECT_EQ(*m.inputs.at("who else").default_value, "${{ github.job }}");
    EXPECT_EQ(inputVariable("who else"), "INPUT_WHO_ELSE");
}

}  // namespace
}  // namespace nixjail::runner::actions
