#include "workspace-cache/cache_set.h"

#include <gtest/gtest.h>

#include "runner/base/temp_dir.h"
#include "workspace-cache/git_test_repo.h"

namespace nixjail::cache {
namespace {

TEST(CacheSet, PrunesEachCacheToItsBudgetAndLeavesZeroBudgetsAlone) {
    base::TempDir dir("nixjail-cacheset-");
    testing::GitTestRepo remote(dir.path() / "remote");
    remote.commit({{"a.txt", "a\n"}}, "one");
    CacheSet caches(dir.path() / "cache");
    caches.mirrors().fetch(remote.url());
    ASSERT_EQ(caches.mirrors().list().size(), 1u);

    EXPECT_TRUE(caches.prune({}).git.empty());  // no budgets: nothing trimmed
    EXPECT_EQ(caches.mirrors().list().size(), 1u);

    const auto removed = caches.prune({.roots = 1ull << 30, .checkouts = 1ull << 30, .git = 1});
    ASSERT_EQ(removed.git.size(), 1u);
    EXPECT_EQ(removed.git[0], remote.url());
    EXPECT_TRUE(caches.mirrors().list().empty());
}

}  // namespace
}  // namespace nixjail::cache
