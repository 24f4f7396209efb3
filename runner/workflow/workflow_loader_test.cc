#include "runner/workflow/workflow_loader.h"

#include <gtest/gtest.h>

namespace nixjail::runner::workflow {
namespace {

Workflow load(const std::string& text) {
    auto r = parseWorkflow(text, "w.yml");
    EXPECT_TRUE(r.has_value()) << (r ? "" : formatAll(r.error()));
    return r ? *r : Workflow{};
}

std::string errors(const std::string& text) {
    auto r = parseWorkflow(text, "w.yml");
    EXPECT_FALSE(r.has_value());
    return r ? "" : formatAll(r.error());
}

TEST(WorkflowLoader, ReadsJobsStepsAndEnvInFileOrder) {
    auto wf = load(R"(
name: CI
on: [push, pull_request]
env: {B: 1, A: "two"}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
        id: s1
        shell: bash
        env: {X: true}
  test:
    needs: build
    runs-on: [self-hosted, nix]
    steps:
      - uses: ./.github/actions/x
        with: {who: me}
)");
    EXPECT_EQ(wf.name, "CI");
    EXPECT_TRUE(wf.triggeredBy("push"));
    EXPECT_TRUE(wf.triggeredBy("pull_request"));
    EXPECT_FALSE(wf.triggeredBy("schedule"));
    ASSERT_EQ(wf.env.size(), 2u);
    EXPECT_EQ(wf.env[0], (std::pair<std::string, std::string>{"B", "1"}));
    ASSERT_EQ(wf.jobs.size(), 2u);
    EXPECT_EQ(wf.jobs[0].id, "build");
    EXPECT_EQ(wf.jobs[0].steps[0].run, "echo hi");
    EXPECT_EQ(wf.jobs[0].steps[0].env[0].second, "true");
    EXPECT_EQ(wf.jobs[1].needs, std::vector<std::string>{"build"});
    EXPECT_EQ(wf.jobs[1].steps[0].with.at("who"), "me");
    EXPECT_EQ(wf.jobs[1].runs_on, nlohmann::json::parse(R"(["self-hosted","nix"])"));
}

TEST(WorkflowLoader, OnAsMappingKeepsEventConfig) {
    auto wf = load(R"(
on:
  workflow_dispatch:
    inputs:
      level: {default: warn}
jobs:
  a: {runs-on: x, steps: [{run: "true"}]}
)");
    EXPECT_EQ(wf.on["workflow_dispatch"]["inputs"]["level"]["default"], "warn");
}

TEST(WorkflowLoader, MatrixKeepsKeyOrderAndTypes) {
    auto wf = load(R"(
on: push
jobs:
  a:
    runs-on: x
    strategy:
      fail-fast: false
      max-parallel: 2
      matrix:
        os: [linux]
        n: [1, 2.5, "3"]
    steps: [{run: "true"}]
)");
    const auto& st = *wf.jobs[0].strategy;
    EXPECT_EQ(st.matrix_keys, (std::vector<std::string>{"os", "n"}));
    EXPECT_EQ(st.matrix["n"][0], 1);
    EXPECT_EQ(st.matrix["n"][1], 2.5);
    EXPECT_EQ(st.matrix["n"][2], "3");
    EXPECT_EQ(st.fail_fast, false);
    EXPECT_EQ(st.max_parallel, 2);
}

TEST(WorkflowLoader, InvalidYamlGivesLineAndColumn) {
    auto e = errors("on: push\njobs:\n  a: [unclosed\n");
    EXPECT_NE(e.find("w.yml:"), std::string::npos) << e;
    EXPECT_NE(e.find("invalid YAML"), std::string::npos) << e;
}

TEST(WorkflowLoader, UnknownKeySuggestsSpelling) {
    auto e = errors("on: push\njobs:\n  a:\n    runson: x\n    steps: [{run: 'true'}]\n");
    EXPECT_NE(e.find("w.yml:4:5: unknown key 'runson' in job 'a'; did you mean 'runs-on'?"), std::string::npos) << e;
    EXPECT_NE(e.find("    runson: x\n      ^"), std::string::npos) << e;
}

TEST(WorkflowLoader, UnknownKeysAtEveryLevelSuggestSpelling) {
    auto e = errors(R"(on: push
envv: {A: 1}
jobs:
  a:
    runs-on: x
    container:
      imag: debian
    services:
      db: {image: pg, portz: [1]}
    concurrency: {group: g, cancel-in-progres: true}
    steps:
      - run: echo
        withh: {a: 1}
)");
    EXPECT_NE(e.find("w.yml:2:1: unknown key 'envv' in the workflow; did you mean 'env'?"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("w.yml:7:7: unknown key 'imag' in job 'a' container; did you mean 'image'?"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("unknown key 'portz' in job 'a' service 'db'; did you mean 'ports'?"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("unknown key 'cancel-in-progres' in job 'a' concurrency; did you mean "
                     "'cancel-in-progress'?"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("w.yml:13:9: unknown key 'withh' in step 1; did you mean 'with'?"),
              std::string::npos)
        << e;
}

TEST(WorkflowLoader, KeysHoldingNamesOfTheirOwnAreNotChecked) {
    load(R"(on: push
env: {ANY_NAME: 1}
jobs:
  a:
    runs-on: {labels: [x], group: g}
    outputs: {whatever: v}
    strategy: {matrix: {anything: [1], include: [{other: 2}]}}
    services:
      my-db: {image: pg, env: {PGX: 1}, options: --x}
    steps:
      - uses: some/action@v1
        with: {free-form: 1}
        env: {FREE: 1}
)");
}

TEST(WorkflowLoader, StepNeedsRunOrUses) {
    auto e = errors("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - name: nothing\n");
    EXPECT_NE(e.find("exactly one of 'run' or 'uses'"), std::string::npos) << e;
}

TEST(WorkflowLoader, AMalformedUsesRefusesTheFileAsGitHubDoes) {
    auto e = errors(R"(on: push
jobs:
  a:
    runs-on: x
    steps:
      - uses: actions/checkout
      - uses: ./local
      - uses: docker://alpine:3
      - uses: actions/cache/restore@v4
      - uses: owner/repo@${{ github.sha }}
  b:
    uses: ./scripts/x.yml
  c:
    uses: acme/shared/.github/workflows/lib.yml@v1
  d:
    uses: acme/shared/lib.yml@v1
)");
    EXPECT_NE(e.find("w.yml:6:15: Expected format {org}/{repo}[/path]@ref. Actual 'actions/checkout'"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("Actual 'owner/repo@${{ github.sha }}'"), std::string::npos) << e;
    EXPECT_EQ(e.find("Actual './local'"), std::string::npos) << e;
    EXPECT_EQ(e.find("docker://"), std::string::npos) << e;
    EXPECT_EQ(e.find("actions/cache/restore"), std::string::npos) << e;
    EXPECT_NE(e.find("w.yml:12:11: Expected format {owner}/{repo}/.github/workflows/{filename}@{ref} "
                     "or ./.github/workflows/{filename}. Actual './scripts/x.yml'"),
              std::string::npos)
        << e;
    EXPECT_EQ(e.find("lib.yml@v1'"), e.rfind("lib.yml@v1'")) << e;  // only d's
    EXPECT_NE(e.find("Actual 'acme/shared/lib.yml@v1'"), std::string::npos) << e;
}

TEST(WorkflowLoader, AnEmptyStepIsReportedWhereItIsNotAtTheNextLine) {
    auto e = errors("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      -\n      - run: echo\n");
    EXPECT_NE(e.find("w.yml:6:7: step 1 must be a mapping"), std::string::npos) << e;
    auto written = errors("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - ~\n");
    EXPECT_NE(written.find("w.yml:6:9: step 1 must be a mapping"), std::string::npos) << written;
}

TEST(WorkflowLoader, UnknownNeedsAndCyclesAreReported) {
    EXPECT_NE(errors("on: push\njobs:\n  a: {runs-on: x, needs: zz, steps: [{run: 'true'}]}\n")
                  .find("needs unknown job 'zz'"),
              std::string::npos);
    EXPECT_NE(errors("on: push\njobs:\n  a: {runs-on: x, needs: b, steps: [{run: 'true'}]}\n"
                     "  b: {runs-on: x, needs: a, steps: [{run: 'true'}]}\n")
                  .find("cycle"),
              std::string::npos);
}

TEST(WorkflowLoader, UnknownShellIsReported) {
    auto e = errors("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n        shell: fish\n");
    EXPECT_NE(e.find("unknown shell 'fish'"), std::string::npos) << e;
}

TEST(WorkflowLoader, BadMatrixIsReported) {
    auto e = errors("on: push\njobs:\n  a:\n    runs-on: x\n    strategy: {matrix: {os: []}}\n    steps: [{run: 'true'}]\n");
    EXPECT_NE(e.find("matrix key 'os' has no values"), std::string::npos) << e;
}

TEST(WorkflowLoader, DuplicateStepIdIsReported) {
    auto e = errors("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - {id: s, run: a}\n      - {id: s, run: b}\n");
    EXPECT_NE(e.find("step id 's' is used twice"), std::string::npos) << e;
}

TEST(WorkflowLoader, EmptyFileAndMissingSections) {
    EXPECT_NE(errors("").find("empty"), std::string::npos);
    EXPECT_NE(errors("name: x\non: push\n").find("no 'jobs'"), std::string::npos);
    EXPECT_NE(errors("jobs:\n  a: {runs-on: x, steps: [{run: 'true'}]}\n").find("no 'on'"), std::string::npos);
}

TEST(WorkflowLoader, ReportsAllProblemsAtOnce) {
    auto r = parseWorkflow("on: push\njobs:\n  a:\n    runson: x\n    stepz: []\n", "w.yml");
    ASSERT_FALSE(r);
    EXPECT_GE(r.error().size(), 3u);
}

TEST(WorkflowLoader, MissingFileNamesIt) {
    auto r = loadWorkflowFile("/nonexistent/w.yml");
    ASSERT_FALSE(r);
    EXPECT_NE(formatAll(r.error()).find("/nonexistent/w.yml"), std::string::npos);
}

}  // namespace
}  // namespace nixjail::runner::workflow
