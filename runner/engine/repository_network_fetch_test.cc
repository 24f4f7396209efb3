// A task repository's network file comes alone through the checkout cache, from a real git
// repository, at the task's commit.
#include "runner/engine/repository_network_fetch.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"
#include "runner/base/temp_dir.h"
#include "workspace-cache/git_test_repo.h"

namespace nixjail::runner::engine {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class RepositoryNetworkFetchTest : public ::testing::Test {
  protected:
    RepositoryNetworkFetchTest()
        : remote_(dir_.path() / "forge" / "owner" / "app"), checkouts_(dir_.path() / "cache") {
        fs::create_directories(scratch_);
    }
    RepositoryAtCommit at(const std::string& commit) {
        return *repositoryOfTask(Json{{"server_url", "file://" + (dir_.path() / "forge").string()},
                                      {"repository", "owner/app"},
                                      {"sha", commit}});
    }
    bool scratchIsEmpty() const { return fs::is_empty(scratch_); }
    base::TempDir dir_{"nixjail-repo-network-fetch-"};
    fs::path scratch_ = dir_.path() / "work";
    cache::testing::GitTestRepo remote_;
    CachedCheckouts checkouts_;
};

TEST_F(RepositoryNetworkFetchTest, TheFileAtTheTasksCommitAndNothingLeftBehind) {
    const std::string first = remote_.commit(
        {{".nixjail-network.yaml", "secret_hosts: {NPM_TOKEN: [registry.npmjs.org]}\n"}, {"src/a.c", "int a;\n"}},
        "1");
    remote_.commit({{".nixjail-network.yaml", "secret_hosts: {NPM_TOKEN: [evil.test]}\n"}}, "2");
    auto repo = fetchRepositoryNetwork(checkouts_.asProvider(), at(first), scratch_);
    ASSERT_TRUE(repo);
    EXPECT_EQ(repo->secret_hosts.at("NPM_TOKEN").hosts, std::vector<std::string>{"registry.npmjs.org"});
    EXPECT_NE(repo->secret_hosts.at("NPM_TOKEN").origin.find(first.substr(0, 12)), std::string::npos);
    EXPECT_TRUE(scratchIsEmpty());
}

TEST_F(RepositoryNetworkFetchTest, NoFileGivesNothingAndABadOneAClearError) {
    const std::string none = remote_.commit({{"README", "r\n"}}, "1");
    EXPECT_FALSE(fetchRepositoryNetwork(checkouts_.asProvider(), at(none), scratch_));
    const std::string bad = remote_.commit({{".nixjail-network.yaml", "secret_hosts: [x]\n"}}, "2");
    try {
        fetchRepositoryNetwork(checkouts_.asProvider(), at(bad), scratch_);
        FAIL() << "no error";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find(".nixjail-network.yaml:1:15: 'secret_hosts' must map"), std::string::npos)
            << e.what();
    }
    try {
        fetchRepositoryNetwork(checkouts_.asProvider(), at(std::string(40, 'f')), scratch_);
        FAIL() << "no error";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot fetch .nixjail-network.yaml of"), std::string::npos) << e.what();
    }
    EXPECT_THROW(fetchRepositoryNetwork({}, at(none), scratch_), base::Error);
    EXPECT_TRUE(scratchIsEmpty());
}

}  // namespace
}  // namespace nixjail::runner::engine
