#include "runner/workflow/job_graph.h"

#include <gtest/gtest.h>

#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::workflow {
namespace {

Workflow make(std::vector<std::pair<std::string, std::vector<std::string>>> jobs) {
    Workflow wf;
    wf.file = "w.yml";
    for (auto& [id, needs] : jobs) {
        Job j;
        j.id = id;
        j.needs = needs;
        wf.jobs.push_back(j);
    }
    return wf;
}

TEST(JobGraph, DependenciesComeFirst) {
    auto r = orderJobs(make({{"deploy", {"test", "build"}}, {"test", {"build"}}, {"build", {}}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (std::vector<std::string>{"build", "test", "deploy"}));
}

TEST(JobGraph, UnknownNeedIsReportedWithSuggestion) {
    auto r = orderJobs(make({{"test", {"biuld"}}, {"build", {}}}));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error()[0].message.find("unknown job 'biuld'; did you mean 'build'?"), std::string::npos);
}

TEST(JobGraph, CycleIsReportedWithItsPath) {
    auto r = orderJobs(make({{"a", {"c"}}, {"b", {"a"}}, {"c", {"b"}}}));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error()[0].message.find("a -> c -> b -> a"), std::string::npos) << r.error()[0].message;
}

TEST(JobGraph, SelfNeedIsACycle) {
    EXPECT_FALSE(orderJobs(make({{"a", {"a"}}})));
}

TEST(JobGraph, WithDependenciesAddsTransitiveNeeds) {
    auto wf = make({{"a", {}}, {"b", {"a"}}, {"c", {"b"}}, {"d", {}}});
    EXPECT_EQ(withDependencies(wf, {"c"}), (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace nixjail::runner::workflow
