// Locating nixpkgs with a scripted Nix: the given one as Nix takes it, the search path, the flake
// registry, and one error naming all three.
#include "runner/engine/nixpkgs_locator.h"

#include <gtest/gtest.h>

#include <map>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::engine {
namespace {

namespace fs = std::filesystem;

// Answers by the command's first words; records what was asked.
struct ScriptedNix {
    std::map<std::string, NixCommandOutput> answers;
    std::vector<std::string> asked;
    NixCommand command() {
        return [this](const std::vector<std::string>& argv) {
            std::string line;
            for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
            asked.push_back(line);
            for (const auto& [prefix, answer] : answers) {
                if (line.rfind(prefix, 0) == 0) return answer;
            }
            return NixCommandOutput{1, "", "error: not scripted: " + line};
        };
    }
};

const NixCommandOutput kNotInSearchPath{
    1, "",
    "warning: the group 'nixbld' specified in 'build-users-group' does not exist\n"
    "error: file 'nixpkgs' was not found in the Nix search path (add it using $NIX_PATH or -I)\n"};
const NixCommandOutput kNoRegistry{
    1, "", "error: unable to download 'https://github.com/NixOS/flake-registry/raw/master/flake-registry.json'\n"};

TEST(NixpkgsArgument, LookupPathsAndUrlsStayAsNixTakesThem) {
    const fs::path cwd = "/home/me/repo";
    EXPECT_EQ(nixpkgsArgument("<nixpkgs>", cwd), "<nixpkgs>");
    EXPECT_EQ(nixpkgsArgument("channel:nixos-24.11", cwd), "channel:nixos-24.11");
    EXPECT_EQ(nixpkgsArgument("https://example.org/nixexprs.tar.xz", cwd), "https://example.org/nixexprs.tar.xz");
    EXPECT_EQ(nixpkgsArgument("nix/pkgs", cwd), "/home/me/repo/nix/pkgs");
    EXPECT_EQ(nixpkgsArgument("../nixpkgs/", cwd), "/home/me/nixpkgs");
    EXPECT_EQ(nixpkgsArgument("/srv/nixpkgs", cwd), "/srv/nixpkgs");
    EXPECT_EQ(nixpkgsArgument("", cwd), "");
    EXPECT_FALSE(isLookupPath("<>"));
    EXPECT_FALSE(isNixUrl("github:NixOS/nixpkgs"));
}

TEST(LocateNixpkgs, TheGivenPathWinsAndMustExist) {
    base::TempDir dir;
    ScriptedNix nix;
    const auto s = locateNixpkgs("pkgs/..", "--nixpkgs", dir.path(), nix.command());
    EXPECT_EQ(s.expression, dir.path().string());
    EXPECT_EQ(s.found_by, "--nixpkgs");
    EXPECT_TRUE(nix.asked.empty());
    try {
        locateNixpkgs("missing", "--nixpkgs", dir.path(), nix.command());
        FAIL() << "a missing path was accepted";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("--nixpkgs 'missing': '" + (dir.path() / "missing").string() +
                                             "' does not exist"),
                  std::string::npos)
            << e.what();
    }
}

TEST(LocateNixpkgs, AGivenLookupPathIsCheckedInTheSearchPathAndKept) {
    ScriptedNix nix;
    nix.answers["nix-instantiate --find-file nixpkgs"] = {0, "/srv/nixpkgs\n", ""};
    const auto s = locateNixpkgs("<nixpkgs>", "--nixpkgs", "/", nix.command());
    EXPECT_EQ(s.expression, "<nixpkgs>");
    ScriptedNix none;
    none.answers["nix-instantiate --find-file nixpkgs"] = kNotInSearchPath;
    try {
        locateNixpkgs("<nixpkgs>", "--nixpkgs", "/", none.command());
        FAIL() << "an unknown lookup path was accepted";
    } catch (const base::Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("--nixpkgs '<nixpkgs>': Nix's search path has no 'nixpkgs' (error: file 'nixpkgs' was "
                            "not found"),
                  std::string::npos)
            << what;
        EXPECT_EQ(what.find("nixbld"), std::string::npos) << what;
    }
}

TEST(LocateNixpkgs, AGivenUrlIsLeftToNix) {
    ScriptedNix nix;
    const auto s = locateNixpkgs("channel:nixos-24.11", "nixpkgs in .nixjail-runner.yaml", "/", nix.command());
    EXPECT_EQ(s.expression, "channel:nixos-24.11");
    EXPECT_EQ(s.found_by, "nixpkgs in .nixjail-runner.yaml");
    EXPECT_TRUE(nix.asked.empty());
}

TEST(LocateNixpkgs, ElseNixpkgsFromTheSearchPath) {
    ScriptedNix nix;
    nix.answers["nix-instantiate --find-file nixpkgs"] = {0, "/srv/fixture\n", ""};
    const auto s = locateNixpkgs("", "--nixpkgs", "/", nix.command());
    EXPECT_EQ(s.expression, "/srv/fixture");
    EXPECT_EQ(s.found_by, "<nixpkgs> in Nix's search path (NIX_PATH)");
    EXPECT_EQ(nix.asked.size(), 1u);
}

TEST(LocateNixpkgs, ElseTheFlakeRegistrysNixpkgs) {
    ScriptedNix nix;
    nix.answers["nix-instantiate --find-file nixpkgs"] = kNotInSearchPath;
    nix.answers["nix --extra-experimental-features nix-command flakes flake metadata --json nixpkgs"] = {
        0, R"({"path":"/nix/store/abc-source","resolvedUrl":"github:NixOS/nixpkgs/nixpkgs-unstable"})", ""};
    const auto s = locateNixpkgs("", "--nixpkgs", "/", nix.command());
    EXPECT_EQ(s.expression, "/nix/store/abc-source");
    EXPECT_EQ(s.found_by, "the flake registry's nixpkgs (github:NixOS/nixpkgs/nixpkgs-unstable)");
}

TEST(LocateNixpkgs, NoneFoundIsOneErrorNamingEveryPlaceTried) {
    ScriptedNix nix;
    nix.answers["nix-instantiate --find-file nixpkgs"] = kNotInSearchPath;
    nix.answers["nix --extra-experimental-features"] = kNoRegistry;
    try {
        locateNixpkgs("", "--nixpkgs", "/", nix.command());
        FAIL() << "found a nixpkgs in nothing";
    } catch (const base::Error& e) {
        const std::string what = e.what();
        for (const char* part : {"no nixpkgs to build the jobs' packages from", "--nixpkgs",
                                 "not found in the Nix search path", "flake-registry.json",
                                 "NIX_PATH=nixpkgs=", "nix registry add nixpkgs"}) {
            EXPECT_NE(what.find(part), std::string::npos) << part << " in " << what;
        }
    }
}

TEST(FindInNixPath, FindsAsNixDoesOrLeavesItToNix) {
    base::TempDir dir;
    const fs::path a = dir.path() / "a", b = dir.path() / "b";
    fs::create_directories(a / "nixpkgs/lib");
    fs::create_directories(b);
    const std::string A = a.string(), B = b.string();
    EXPECT_EQ(findInNixPath("nixpkgs", "nixpkgs=" + B + "/"), B);  // normalised as Nix does
    EXPECT_EQ(findInNixPath("nixpkgs", "nixpkgs=" + B + "//"), B);
    // The first entry that exists wins; a missing one is skipped, like Nix's warning says.
    EXPECT_EQ(findInNixPath("nixpkgs", "nixpkgs=/no/such/dir:nixpkgs=" + B), B);
    EXPECT_EQ(findInNixPath("nixpkgs", A + ":nixpkgs=" + B), (a / "nixpkgs").string());
    EXPECT_EQ(findInNixPath("nixpkgs", "other=" + A + ":nixpkgs=" + B), B);
    EXPECT_EQ(findInNixPath("nixpkgs/lib", "nixpkgs=" + A + "/nixpkgs"), (a / "nixpkgs/lib").string());
    EXPECT_EQ(findInNixPath("nixpkgs", "other=" + A), std::nullopt);
    EXPECT_EQ(findInNixPath("nixpkgs", ""), std::nullopt);
    // What only Nix reads: URLs, channels, flakes, relative paths.
    EXPECT_EQ(findInNixPath("nixpkgs", "nixpkgs=channel:nixos-24.11"), std::nullopt);
    EXPECT_EQ(findInNixPath("nixpkgs", "nixpkgs=https://example.org/x.tar.xz:nixpkgs=" + B), std::nullopt);
    EXPECT_EQ(findInNixPath("nixpkgs", "nixpkgs=flake:nixpkgs"), std::nullopt);
    EXPECT_EQ(findInNixPath("nixpkgs", "nixpkgs=relative/dir"), std::nullopt);
}

TEST(NixPathOf, OnlyWhenNoNixConfigurationCanReplaceIt) {
    base::TempDir dir;
    const std::string etc = "NIX_CONF_DIR=" + dir.path().string();
    const std::string user = "NIX_USER_CONF_FILES=" + (dir.path() / "user.conf").string();
    const cache::NixTools plain{{}, {"NIX_PATH=nixpkgs=/srv/nixpkgs", etc, user}};
    EXPECT_EQ(nixPathOf(plain), "nixpkgs=/srv/nixpkgs");
    EXPECT_EQ(nixPathOf({{}, {"NIX_PATH=nixpkgs=/srv/nixpkgs", etc, user,
                              "NIX_CONFIG=nix-path = nixpkgs=/elsewhere"}}),
              std::nullopt);
    base::writeFile(dir.path() / "user.conf", "nix-path = nixpkgs=/elsewhere\n");
    EXPECT_EQ(nixPathOf(plain), std::nullopt);
    base::writeFile(dir.path() / "user.conf", "substituters =\n");
    base::writeFile(dir.path() / "nix.conf", "!include /etc/nix/more.conf\n");
    EXPECT_EQ(nixPathOf(plain), std::nullopt);
}

TEST(LocateNixpkgs, ASearchPathThatNamesAnExistingPathNeedsNoNixCall) {
    base::TempDir dir;
    ScriptedNix nix;
    const auto s = locateNixpkgs("", "--nixpkgs", "/", nix.command(), "nixpkgs=" + dir.path().string());
    EXPECT_EQ(s.expression, dir.path().string());
    EXPECT_EQ(s.found_by, "<nixpkgs> in Nix's search path (NIX_PATH)");
    EXPECT_EQ(locateNixpkgs("<nixpkgs>", "--nixpkgs", "/", nix.command(),
                            "nixpkgs=" + dir.path().string()).expression,
              "<nixpkgs>");
    EXPECT_TRUE(nix.asked.empty());
    // One it cannot read is Nix's to answer.
    nix.answers["nix-instantiate --find-file nixpkgs"] = {0, "/srv/fixture\n", ""};
    EXPECT_EQ(locateNixpkgs("", "--nixpkgs", "/", nix.command(), "nixpkgs=channel:nixos-24.11").expression,
              "/srv/fixture");
    EXPECT_EQ(nix.asked.size(), 1u);
}

}  // namespace
}  // namespace nixjail::runner::engine
