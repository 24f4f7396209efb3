// The executor's compiled seccomp filters: each profile's is compiled once and shared, and it is
// the same program a fresh compile of that profile gives.
#include "executor/namespace/seccomp_filters.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

namespace nixjail::executor::ns {
namespace {

bool sameCode(const SeccompProgram& a, const SeccompProgram& b) {
    return a.code.size() == b.code.size() &&
           std::memcmp(a.code.data(), b.code.data(), a.code.size() * sizeof(sock_filter)) == 0;
}

TEST(SeccompFilters, EachProfileIsCompiledOnceAndIsWhatAFreshCompileGives) {
    SeccompFilters filters;
    const auto byDefault = filters.get(HardeningProfile::kDefault);
    const auto strict = filters.get(HardeningProfile::kStrict);
    EXPECT_EQ(filters.get(HardeningProfile::kDefault), byDefault) << "shared, not compiled again";
    EXPECT_EQ(filters.get(HardeningProfile::kStrict), strict);
    EXPECT_TRUE(sameCode(*byDefault, compileSeccompFilter(planSeccompRules(HardeningProfile::kDefault))));
    EXPECT_TRUE(sameCode(*strict, compileSeccompFilter(planSeccompRules(HardeningProfile::kStrict))));
    EXPECT_FALSE(sameCode(*byDefault, *strict));
    // The kernel's view of it points into its own code.
    EXPECT_EQ(byDefault->prog.filter, byDefault->code.data());
    EXPECT_EQ(byDefault->prog.len, byDefault->code.size());
}

// A daemon's jobs ask at once, each for either profile: one program per profile.
TEST(SeccompFilters, JobsAskingAtOnceShareOneProgramPerProfile) {
    SeccompFilters filters;
    std::vector<std::shared_ptr<const SeccompProgram>> seen(8);
    std::vector<std::thread> jobs;
    for (size_t i = 0; i < seen.size(); ++i) {
        jobs.emplace_back([&, i] {
            seen[i] = filters.get(i % 2 ? HardeningProfile::kStrict : HardeningProfile::kDefault);
        });
    }
    for (auto& j : jobs) j.join();
    for (size_t i = 2; i < seen.size(); ++i) EXPECT_EQ(seen[i], seen[i % 2]) << i;
}

}  // namespace
}  // namespace nixjail::executor::ns
