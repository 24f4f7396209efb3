// Keys for remembered package answers: an immutable nixpkgs keeps its key, a mutable one changes
// it with every edit and is trusted for a while only, and what else nixpkgs reads is in the key.
#include "runner/engine/nixpkgs_identity.h"

#include <gtest/gtest.h>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::engine {
namespace {

namespace fs = std::filesystem;

class NixpkgsIdentityTest : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(store_ / "abc-nixpkgs/pkgs");
        base::writeFile(store_ / "abc-nixpkgs/default.nix", "{ }: { }");
        fs::create_directories(checkout_ / "pkgs/top-level");
        base::writeFile(checkout_ / "default.nix", "import ./pkgs/top-level");
        base::writeFile(checkout_ / "pkgs/top-level/default.nix", "{ }: { hello = 1; }");
        fs::create_directories(home_);
    }
    // A store of our own (NIX_STORE_DIR) and a home whose nixpkgs configuration we control.
    cache::NixTools tools(std::vector<std::string> more = {}) {
        cache::NixTools t{{}, {"NIX_STORE_DIR=" + store_.string(), "HOME=" + home_.string()}};
        t.env.insert(t.env.end(), more.begin(), more.end());
        return t;
    }
    base::TempDir dir_{"nixjail-identity-"};
    fs::path store_ = dir_.path() / "store";
    fs::path checkout_ = dir_.path() / "nixpkgs";
    fs::path home_ = dir_.path() / "home";
};

TEST_F(NixpkgsIdentityTest, ANixpkgsInTheStoreIsTrustedWithoutLimit) {
    const auto id = identifyNixpkgs((store_ / "abc-nixpkgs").string(), tools());
    EXPECT_NE(id.key.find("store " + (store_ / "abc-nixpkgs").string()), std::string::npos) << id.key;
    EXPECT_FALSE(id.max_age);
    // A link to it (a channel profile) is the same nixpkgs.
    fs::create_directory_symlink(store_ / "abc-nixpkgs", dir_.path() / "channel");
    EXPECT_EQ(identifyNixpkgs((dir_.path() / "channel").string(), tools()).key, id.key);
}

TEST_F(NixpkgsIdentityTest, AnEditedCheckoutGetsANewKeyAndAnyCheckoutALimitedTrust) {
    const auto before = identifyNixpkgs(checkout_.string(), tools());
    ASSERT_FALSE(before.key.empty());
    EXPECT_EQ(before.max_age, kMutableNixpkgsTrust);
    EXPECT_EQ(identifyNixpkgs(checkout_.string(), tools()).key, before.key);

    base::writeFile(checkout_ / "pkgs/top-level/default.nix", "{ }: { hello = 2; }");
    const auto edited = identifyNixpkgs(checkout_.string(), tools());
    EXPECT_NE(edited.key, before.key);
    base::writeFile(checkout_ / "pkgs/new.nix", "{ }");
    EXPECT_NE(identifyNixpkgs(checkout_.string(), tools()).key, edited.key);

    // Git's own files are not nixpkgs: a fetch does not make a new key.
    fs::create_directories(checkout_ / ".git/objects");
    const auto now = identifyNixpkgs(checkout_.string(), tools()).key;
    base::writeFile(checkout_ / ".git/FETCH_HEAD", "x");
    base::writeFile(checkout_ / ".git/objects/pack", "x");
    EXPECT_EQ(identifyNixpkgs(checkout_.string(), tools()).key, now);
}

TEST_F(NixpkgsIdentityTest, UrlsAndUnresolvedLookupPathsAreTrustedForAWhile) {
    const auto url = identifyNixpkgs("https://example.org/nixexprs.tar.xz", tools());
    EXPECT_NE(url.key.find("url https://example.org/nixexprs.tar.xz"), std::string::npos);
    EXPECT_EQ(url.max_age, kMutableNixpkgsTrust);
    EXPECT_EQ(identifyNixpkgs("channel:nixos-24.11", tools()).max_age, kMutableNixpkgsTrust);

    // <nixpkgs> that NIX_PATH names is that path's identity.
    const auto viaPath = identifyNixpkgs(
        "<nixpkgs>", tools({"NIX_PATH=nixpkgs=" + (store_ / "abc-nixpkgs").string(),
                            "NIX_CONF_DIR=" + dir_.path().string()}));
    EXPECT_NE(viaPath.key.find("store " + (store_ / "abc-nixpkgs").string()), std::string::npos)
        << viaPath.key;
    // One only Nix can resolve (a channel in NIX_PATH) is trusted as a URL is.
    const auto unresolved =
        identifyNixpkgs("<nixpkgs>", tools({"NIX_PATH=nixpkgs=channel:nixos-24.11"}));
    EXPECT_NE(unresolved.key.find("lookup <nixpkgs>"), std::string::npos);
    EXPECT_EQ(unresolved.max_age, kMutableNixpkgsTrust);
}

TEST_F(NixpkgsIdentityTest, WhatElseNixpkgsReadsIsPartOfTheKey) {
    const auto path = (store_ / "abc-nixpkgs").string();
    const auto plain = identifyNixpkgs(path, tools()).key;
    EXPECT_NE(identifyNixpkgs(path, tools({"NIXPKGS_ALLOW_UNFREE=1"})).key, plain);
    EXPECT_NE(identifyNixpkgs(path, tools({"NIX_CONFIG=system = aarch64-linux"})).key, plain);

    fs::create_directories(home_ / ".config/nixpkgs/overlays");
    base::writeFile(home_ / ".config/nixpkgs/overlays/mine.nix", "self: super: { }");
    const auto overlaid = identifyNixpkgs(path, tools()).key;
    EXPECT_NE(overlaid, plain);
    base::writeFile(home_ / ".config/nixpkgs/overlays/mine.nix", "self: super: { x = 1; }");
    EXPECT_NE(identifyNixpkgs(path, tools()).key, overlaid);

    base::writeFile(dir_.path() / "config.nix", "{ allowUnfree = true; }");
    EXPECT_NE(identifyNixpkgs(path, tools({"NIXPKGS_CONFIG=" + (dir_.path() / "config.nix").string()})).key,
              identifyNixpkgs(path, tools()).key);
}

TEST_F(NixpkgsIdentityTest, WhatCannotBeIdentifiedIsNotRemembered) {
    EXPECT_TRUE(identifyNixpkgs("", tools()).key.empty());
    EXPECT_TRUE(identifyNixpkgs((dir_.path() / "missing").string(), tools()).key.empty());
}

}  // namespace
}  // namespace nixjail::runner::engine
