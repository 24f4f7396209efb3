// Repeated mapping keys are refused at the repetition, anywhere in the file.
#include "runner/workflow/duplicate_keys.h"

#include <gtest/gtest.h>

#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::workflow {
namespace {

std::string errors(const std::string& text) {
    auto r = parseWorkflow(text, "w.yml");
    EXPECT_FALSE(r.has_value()) << text;
    return r ? "" : formatAll(r.error());
}

TEST(DuplicateKeys, RepeatedStepKeyIsReportedWhereItRepeats) {
    auto e = errors(R"(on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: echo one
        run: echo two
)");
    EXPECT_NE(e.find("w.yml:7:9: duplicate key 'run': it is already defined at line 6"),
              std::string::npos)
        << e;
}

TEST(DuplicateKeys, RepeatedJobsAndEnvNamesAreReported) {
    auto e = errors(R"(on: push
env:
  A: 1
  A: 2
jobs:
  j:
    runs-on: x
    steps: [{run: echo}]
  j:
    runs-on: y
    steps: [{run: echo}]
)");
    EXPECT_NE(e.find("w.yml:4:3: duplicate key 'A'"), std::string::npos) << e;
    EXPECT_NE(e.find("w.yml:9:3: duplicate key 'j': it is already defined at line 6"),
              std::string::npos)
        << e;
}

TEST(DuplicateKeys, SameKeyInDifferentMappingsIsFine) {
    auto r = parseWorkflow(R"(on: push
jobs:
  a:
    runs-on: x
    steps: [{run: echo, name: a}, {run: echo, name: b}]
  b:
    runs-on: x
    steps: [{run: echo}]
)",
                           "w.yml");
    EXPECT_TRUE(r.has_value()) << (r ? "" : formatAll(r.error()));
}

}  // namespace
}  // namespace nixjail::runner::workflow
