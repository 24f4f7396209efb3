// Default package sets per runs-on label: the built-in families, the caller's overrides, messages.
#include "runner/engine/default_packages.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace nixjail::runner::engine {
namespace {

using Json = nlohmann::json;

TEST(DefaultPackages, UbuntuLinuxAndSelfHostedGetTheBaseSet) {
    const auto d = DefaultPackages::builtIn();
    for (const char* label : {"ubuntu-latest", "ubuntu-22.04", "ubuntu-24.04-arm", "linux", "self-hosted"}) {
        auto c = d.choose({label});
        ASSERT_TRUE(c) << label;
        EXPECT_EQ(c->label, label);
        EXPECT_EQ(c->packages, ubuntuBasePackages());
    }
    const auto& base = ubuntuBasePackages();
    for (const char* p : {"bash", "coreutils", "git", "curl", "jq", "gawk", "gnused", "cacert"}) {
        EXPECT_NE(std::find(base.begin(), base.end(), p), base.end()) << p;
    }
}

TEST(DefaultPackages, OtherLabelsGetNothing) {
    const auto d = DefaultPackages::builtIn();
    EXPECT_FALSE(d.choose({"macos-latest"}));
    EXPECT_FALSE(d.choose({"windows-2022", "nix"}));
    EXPECT_FALSE(d.choose({}));
}

TEST(DefaultPackages, TheFirstLabelWithASetDecides) {
    auto d = DefaultPackages::builtIn();
    d.prepend("gpu", {"bash", "cuda"});
    auto c = d.choose({"x64", "self-hosted", "gpu"});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->label, "self-hosted");
    EXPECT_EQ(c->packages, ubuntuBasePackages());
}

TEST(DefaultPackages, TheCallersMappingWinsOverTheBuiltInOne) {
    auto d = DefaultPackages::builtIn();
    d.prependAll({{"ubuntu-22.04", {"bash"}}, {"ubuntu-*", {"bash", "coreutils"}}, {"nix", {"bash", "nix"}}});
    EXPECT_EQ(d.choose({"ubuntu-22.04"})->packages, std::vector<std::string>{"bash"});
    auto latest = d.choose({"ubuntu-latest"});
    EXPECT_EQ(latest->packages, (std::vector<std::string>{"bash", "coreutils"}));
    EXPECT_EQ(latest->pattern, "ubuntu-*");
    EXPECT_EQ(d.choose({"nix"})->packages, (std::vector<std::string>{"bash", "nix"}));
    // A pattern given again replaces its earlier entry instead of shadowing it twice.
    EXPECT_EQ(std::count_if(d.entries().begin(), d.entries().end(),
                            [](const auto& e) { return e.pattern == "ubuntu-*"; }),
              1);
}

TEST(DefaultPackages, AnEmptySetMapsALabelToNothing) {
    auto d = DefaultPackages::builtIn();
    d.prepend("self-hosted", {});
    EXPECT_FALSE(d.choose({"self-hosted"}));
    // ... but the job's next label may still have one.
    EXPECT_TRUE(d.choose({"self-hosted", "linux"}));
}

TEST(DefaultPackages, TheErrorNamesTheLabelAndHowToMapIt) {
    const auto one = DefaultPackages::noDefaultMessage({"macos-latest"});
    EXPECT_NE(one.find("runs-on label 'macos-latest' has no default package set"), std::string::npos) << one;
    EXPECT_NE(one.find("default_packages: {macos-latest: [bash, coreutils]}"), std::string::npos) << one;
    EXPECT_NE(one.find("NIXJAIL_PACKAGES"), std::string::npos) << one;
    EXPECT_NE(one.find("nix.default_packages"), std::string::npos) << one;
    EXPECT_NE(one.find("devShells.<system>.default"), std::string::npos) << one;
    const auto two = DefaultPackages::noDefaultMessage({"windows-latest", "x64"});
    EXPECT_NE(two.find("none of its runs-on labels 'windows-latest', 'x64' has"), std::string::npos) << two;
    EXPECT_NE(DefaultPackages::noDefaultMessage({}).find("it has no runs-on label"), std::string::npos);
}

TEST(DefaultPackages, RunsOnLabelsFromEveryForm) {
    EXPECT_EQ(runsOnLabels(Json("ubuntu-latest")), std::vector<std::string>{"ubuntu-latest"});
    EXPECT_EQ(runsOnLabels(Json::array({"self-hosted", "linux", 3})),
              (std::vector<std::string>{"self-hosted", "linux"}));
    EXPECT_EQ(runsOnLabels(Json{{"group", "g"}, {"labels", "linux"}}), std::vector<std::string>{"linux"});
    EXPECT_TRUE(runsOnLabels(Json()).empty());
}

TEST(DefaultPackages, TheLogSaysWhichSetAndWhy) {
    const auto text = describeChoice({"ubuntu-latest", "ubuntu-*", {"bash", "coreutils"}});
    EXPECT_EQ(text,
              "the default packages of runs-on label 'ubuntu-latest' (as 'ubuntu-*'): bash coreutils "
              "(the job declares no packages and the repository has no flake devShell)");
    EXPECT_EQ(describeChoice({"linux", "linux", {"bash"}}).find("(as"), std::string::npos);
}

}  // namespace
}  // namespace nixjail::runner::engine
