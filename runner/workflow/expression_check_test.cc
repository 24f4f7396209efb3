// Load-time expression checks: syntax, unknown contexts, context availability per key, special
// functions, each reported at the expression's file:line:col.
#include "runner/workflow/expression_check.h"

#include <gtest/gtest.h>

#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::workflow {
namespace {

std::string errors(const std::string& text) {
    auto r = parseWorkflow(text, "w.yml");
    EXPECT_FALSE(r.has_value()) << text;
    return r ? "" : formatAll(r.error());
}

void accepts(const std::string& text) {
    auto r = parseWorkflow(text, "w.yml");
    EXPECT_TRUE(r.has_value()) << (r ? "" : formatAll(r.error()));
}

// A one-job workflow whose job has `jobKeys` and one step with `stepKeys` (YAML, 4/8 indented).
std::string oneJob(const std::string& jobKeys, const std::string& stepKeys) {
    return "on: push\njobs:\n  j:\n    runs-on: x\n" + jobKeys + "    steps:\n      - run: echo\n" +
           stepKeys;
}

TEST(ExpressionCheck, SyntaxErrorInRunGivesLineAndColumnOfTheProblem) {
    auto e = errors(oneJob("", "        env:\n          A: ${{ contains('a') }}\n"));
    EXPECT_NE(e.find("w.yml:8:18: invalid expression in jobs.<job_id>.steps.env: Too few "
                     "parameters supplied: 'contains'"),
              std::string::npos)
        << e;
    // The source line and a caret under the function, as ninja shows them.
    EXPECT_NE(e.find("\n            A: ${{ contains('a') }}\n" + std::string(19, ' ') + "^"),
              std::string::npos)
        << e;
}

TEST(ExpressionCheck, SyntaxErrorInsideABlockScriptPointsIntoTheScript) {
    auto e = errors(R"(on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: |
          echo one
          echo "${{ github.sha }} ${{ github.ref == }}"
)");
    EXPECT_NE(e.find("w.yml:8:50: invalid expression in jobs.<job_id>.steps.run: Unexpected end"),
              std::string::npos)
        << e;
}

TEST(ExpressionCheck, UnclosedExpressionIsAnError) {
    auto e = errors(oneJob("", "        name: a ${{ github.sha\n"));
    EXPECT_NE(e.find("w.yml:7:17: invalid expression in jobs.<job_id>.steps.name: The expression "
                     "is not closed"),
              std::string::npos)
        << e;
}

TEST(ExpressionCheck, UnknownContextIsAnErrorEverywhereWithASuggestion) {
    auto e = errors(
        "on: push\nrun-name: ${{ foo.bar }}\njobs:\n  j:\n    runs-on: x\n"
        "    steps:\n      - run: echo ${{ gihub.sha }}\n");
    EXPECT_NE(e.find("w.yml:2:15: invalid expression in run-name: Unrecognized named-value: 'foo'"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("w.yml:7:23: invalid expression in jobs.<job_id>.steps.run: Unrecognized "
                     "named-value: 'gihub'; did you mean 'github'?"),
              std::string::npos)
        << e;
}

TEST(ExpressionCheck, SecretsAreNotAvailableInAStepIf) {
    auto e = errors(oneJob("", "        if: secrets.TOKEN != ''\n"));
    EXPECT_NE(e.find("w.yml:7:13: context 'secrets' is not available in jobs.<job_id>.steps.if"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("set it in env: and test env.<NAME>"), std::string::npos) << e;
    // Also inside ${{ }}, quoted.
    e = errors(oneJob("", "        if: \"${{ secrets.TOKEN }}\"\n"));
    EXPECT_NE(e.find("w.yml:7:18: context 'secrets'"), std::string::npos) << e;
}

TEST(ExpressionCheck, JobIfSeesOnlyGithubNeedsVarsAndInputs) {
    for (const char* ctx : {"env.A", "matrix.os", "steps.s.outcome", "secrets.X", "runner.os",
                            "strategy.job-index", "job.status"}) {
        auto e = errors(oneJob(std::string("    if: ") + ctx + " == 'x'\n", ""));
        EXPECT_NE(e.find("w.yml:5:9: context '"), std::string::npos) << e;
        EXPECT_NE(e.find("is not available in jobs.<job_id>.if"), std::string::npos) << e;
    }
    accepts(R"(on: push
jobs:
  a:
    runs-on: x
    steps: [{run: echo}]
  j:
    needs: a
    if: always() && needs.a.result == 'success' && github.event_name == 'push' && vars.V != 'n'
    runs-on: x
    steps: [{run: echo}]
)");
}

TEST(ExpressionCheck, StepIfSeesEnvStepsMatrixAndStatusFunctions) {
    accepts(oneJob("    strategy: {matrix: {os: [a]}}\n",
                   "      - if: failure() || env.A == 'x' && steps.s.outputs.v == matrix.os && "
                   "hashFiles('x') != '' && job.status == 'success' && runner.os == 'Linux'\n"
                   "        run: echo\n"));
}

TEST(ExpressionCheck, RunsOnMayUseMatrixButNotEnvOrSecrets) {
    accepts(
        "on: push\njobs:\n  j:\n    strategy: {matrix: {os: [a]}}\n"
        "    runs-on: ${{ matrix.os }}\n    steps: [{run: echo}]\n");
    auto e = errors(
        "on: push\njobs:\n  j:\n    runs-on: [x, \"${{ secrets.L }}\"]\n"
        "    steps: [{run: echo}]\n");
    EXPECT_NE(e.find("w.yml:4:23: context 'secrets' is not available in jobs.<job_id>.runs-on"),
              std::string::npos)
        << e;
}

TEST(ExpressionCheck, JobEnvMaySeeSecretsAndMatrixButNotSteps) {
    accepts(oneJob("    env:\n      T: ${{ secrets.T }}-${{ strategy.job-index }}\n", ""));
    auto e = errors(oneJob("    env:\n      T: ${{ steps.a.outputs.x }}\n", ""));
    EXPECT_NE(e.find("w.yml:6:14: context 'steps' is not available in jobs.<job_id>.env"),
              std::string::npos)
        << e;
}

TEST(ExpressionCheck, WorkflowEnvAndRunNameRows) {
    accepts(
        "on: push\nrun-name: ${{ github.actor }} ${{ inputs.x }} ${{ vars.Y }}\n"
        "env:\n  A: ${{ secrets.A }}\njobs:\n  j:\n    runs-on: x\n    steps: [{run: echo}]\n");
    auto e = errors(
        "on: push\nenv:\n  A: ${{ matrix.os }}\njobs:\n  j:\n    runs-on: x\n"
        "    steps: [{run: echo}]\n");
    EXPECT_NE(e.find("w.yml:3:10: context 'matrix' is not available in env (GitHub's context "
                     "availability); available there: github, secrets, inputs, vars"),
              std::string::npos)
        << e;
    e = errors(
        "on: push\nrun-name: ${{ secrets.A }}\njobs:\n  j:\n    runs-on: x\n"
        "    steps: [{run: echo}]\n");
    EXPECT_NE(e.find("context 'secrets' is not available in run-name"), std::string::npos) << e;
}

TEST(ExpressionCheck, JobKeysWithRowsOfTheirOwn) {
    auto e =
        errors(oneJob("    timeout-minutes: ${{ env.T }}\n"
                      "    continue-on-error: ${{ steps.x.outcome == 'failure' }}\n"
                      "    strategy:\n      matrix:\n        os: ${{ fromJSON(matrix.x) }}\n"
                      "    concurrency: ${{ secrets.G }}\n"
                      "    outputs:\n      o: ${{ steps.s.outputs.o }}${{ secrets.S }}\n",
                      ""));
    EXPECT_NE(e.find("context 'env' is not available in jobs.<job_id>.timeout-minutes"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("context 'steps' is not available in jobs.<job_id>.continue-on-error"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("context 'matrix' is not available in jobs.<job_id>.strategy"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("context 'secrets' is not available in jobs.<job_id>.concurrency"),
              std::string::npos)
        << e;
    EXPECT_EQ(e.find("jobs.<job_id>.outputs"), std::string::npos) << e;
}

TEST(ExpressionCheck, StatusFunctionsOnlyInIf) {
    auto e = errors(oneJob("", "        env:\n          A: ${{ always() }}\n"));
    EXPECT_NE(e.find("w.yml:8:18: invalid expression in jobs.<job_id>.steps.env: Function "
                     "'always' is not allowed here"),
              std::string::npos)
        << e;
}

TEST(ExpressionCheck, HashFilesOnlyInSteps) {
    auto e = errors(oneJob("    env:\n      K: ${{ hashFiles('**/lock') }}\n", ""));
    EXPECT_NE(e.find("w.yml:6:14: hashFiles() is not available in jobs.<job_id>.env"),
              std::string::npos)
        << e;
    accepts(oneJob("", "        with:\n          key: ${{ runner.os }}-${{ hashFiles('a') }}\n"));
}

TEST(ExpressionCheck, CommonValidExpressionsPass) {
    accepts(R"(on:
  workflow_call:
    inputs:
      who: {type: string, default: "${{ github.actor }}"}
    outputs:
      out: {value: "${{ jobs.j.outputs.o }}"}
  workflow_dispatch:
    inputs:
      level: {type: string}
jobs:
  j:
    runs-on: ${{ inputs.level == 'big' && 'large' || 'small' }}
    outputs:
      o: ${{ steps.s.outputs.v }}
    steps:
      - id: s
        run: |
          echo "${{ github.event_name == 'push' && 'a' || 'b' }}"
          echo '${{ format('{0}-{1}', github.sha, toJSON(github.event.commits.*.id)) }}'
          echo "${{ fromJSON('[1,2]')[0] }} ${{ join(github.event.*.x, ',') }}"
      - if: ${{ !cancelled() && steps.s.conclusion == 'success' }}
        run: echo "${{ inputs.who }}" "${{ secrets.GITHUB_TOKEN }}"
        env:
          ACTOR: ${{ github.actor }}
)");
}

}  // namespace
}  // namespace nixjail::runner::workflow
