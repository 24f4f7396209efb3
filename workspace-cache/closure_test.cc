// The generic closure walk and key, with a map-backed reference source.
#include "workspace-cache/closure.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"

namespace nixjail::cache {
namespace {

using Paths = std::vector<std::string>;

TEST(ComputeClosure, FollowsReferencesTransitivelyAndIncludesRoots) {
    MapReferenceSource src({{"/s/curl", {"/s/libs", "/s/openssl"}},
                            {"/s/openssl", {"/s/libs"}},
                            {"/s/bash", {"/s/libs"}},
                            {"/s/libs", {}}});
    EXPECT_EQ(computeClosure({"/s/curl"}, src), (Paths{"/s/curl", "/s/libs", "/s/openssl"}));
    EXPECT_EQ(computeClosure({"/s/bash", "/s/curl"}, src),
              (Paths{"/s/bash", "/s/curl", "/s/libs", "/s/openssl"}));
}

TEST(ComputeClosure, QueriesEachPathOnceEvenWithCycles) {
    MapReferenceSource src(
        {{"/s/a", {"/s/b", "/s/a"}}, {"/s/b", {"/s/a", "/s/c"}}, {"/s/c", {"/s/b"}}});
    EXPECT_EQ(computeClosure({"/s/a", "/s/a"}, src), (Paths{"/s/a", "/s/b", "/s/c"}));
    EXPECT_EQ(src.queries(), 3);
}

TEST(ComputeClosure, EmptyRootsGiveEmptyClosure) {
    MapReferenceSource src({});
    EXPECT_TRUE(computeClosure({}, src).empty());
}

TEST(ClosureKey, IgnoresOrderAndDuplicates) {
    EXPECT_EQ(closureKey({"/s/b", "/s/a"}), closureKey({"/s/a", "/s/b", "/s/a"}));
    EXPECT_NE(closureKey({"/s/a"}), closureKey({"/s/a", "/s/b"}));
    EXPECT_EQ(closureKey({"/s/a"}).size(), 64u);
}

TEST(PackageResolver, RejectsNamesThatAreNotAttributePaths) {
    PackageResolver r("/nonexistent", {});
    EXPECT_THROW(r.resolvePackages({"bash; rm -rf /"}), base::Error);
    EXPECT_THROW(r.resolvePackages({"--expr"}), base::Error);
}

TEST(ParsePackageList, SplitsOnSpacesAndCommasSkipsCommentsAndDuplicates) {
    EXPECT_EQ(
        parsePackageList(
            "bash curl,\n python3Packages.requests # tools\n# all\ncurl  gcc-unwrapped"),
        (std::vector<std::string>{"bash", "curl", "python3Packages.requests", "gcc-unwrapped"}));
    EXPECT_TRUE(parsePackageList("  # nothing\n").empty());
}

TEST(ParsePackageList, NamesEveryInvalidEntry) {
    try {
        parsePackageList("bash $(rm) ok ../x");
        FAIL();
    } catch (const base::Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("'$(rm)'"), std::string::npos) << m;
        EXPECT_NE(m.find("'../x'"), std::string::npos) << m;
    }
}

TEST(NixStoreReferenceSource, FailsClearlyWhenTheToolIsMissing) {
    NixStoreReferenceSource src({"/nonexistent-bin", {}});
    EXPECT_THROW(src.references("/nix/store/x"), base::Error);
}

}  // namespace
}  // namespace nixjail::cache
