// hashFiles() on real temporary directories: digests, order, patterns, and staying inside.
#include "runner/expr/hash_files.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runner/base/error.h"
#include "runner/base/temp_dir.h"
#include "runner/expr/expr.h"

namespace nixjail::runner::expr {
namespace {

namespace fs = std::filesystem;

std::string sha256(const std::string& data) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
    return std::string(reinterpret_cast<char*>(md), sizeof md);
}

std::string hex(const std::string& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// What the runner computes for files with these contents, in this order.
std::string expected(std::initializer_list<std::string> contents) {
    std::string digests;
    for (const auto& c : contents) digests += sha256(c);
    return hex(sha256(digests));
}

class HashFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        write("a.txt", "A");
        write("b/c.txt", "C");
        write("b/d.log", "D");
        write(".hidden/x.txt", "X");
    }

    void write(const std::string& rel, const std::string& content) {
        fs::path p = ws_.path() / rel;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
    }

    std::string hash(std::vector<std::string> patterns) { return hashFiles(ws_.path(), patterns); }

    base::TempDir ws_{"nixjail-expr-ws-"};
    base::TempDir outside_{"nixjail-expr-out-"};
};

TEST_F(HashFiles, KnownAnswers) {
    // sha256(sha256("A")), computed independently.
    EXPECT_EQ(hash({"a.txt"}), "1cd6ef71e6e0ff46ad2609d403dc3fee244417089aa4461245a4e4fe23a55e42");
    EXPECT_EQ(hash({"**/*.txt"}),
              "e12387b901e0ed9dd5f63c284d4e123e3dc08a698e3b533e6e95556d13bb4214");
}

TEST_F(HashFiles, HashesTheDigestsDepthFirstInNameOrder) {
    EXPECT_EQ(hash({"**/*.txt"}), expected({"X", "A", "C"}));  // .hidden/x.txt, a.txt, b/c.txt
    EXPECT_EQ(hash({"**"}), expected({"X", "A", "C", "D"}));
    write("o/a/b", "1");
    write("o/a-c", "2");
    // The runner walks directories depth first ("a" before "a-c"), not by full path string.
    EXPECT_EQ(hash({"o/**"}), expected({"1", "2"}));
    EXPECT_EQ(hash({"o/a-c", "o/a/b"}), expected({"1", "2"}));
}

TEST_F(HashFiles, EmptyWhenNothingMatches) {
    EXPECT_EQ(hash({"*.none"}), "");
    EXPECT_EQ(hash({"missing/dir/**"}), "");
    EXPECT_EQ(hash({""}), "");
    EXPECT_EQ(hash({"# only a comment"}), "");
}

TEST_F(HashFiles, PatternsNegationsAndDirectories) {
    EXPECT_EQ(hash({"**/*.txt", "!b/**"}), expected({"X", "A"}));
    EXPECT_EQ(hash({"**/*.txt\n!.hidden"}), expected({"A", "C"}));
    EXPECT_EQ(hash({"b"}), expected({"C", "D"}));
    EXPECT_EQ(hash({"b/"}), expected({"C", "D"}));
    EXPECT_EQ(hash({"b/*.log", "a.txt"}), expected({"A", "D"}));
    EXPECT_EQ(hash({"a.txt", "b/*.log"}), expected({"A", "D"}));
    EXPECT_EQ(hash({"[ab].txt"}), hash({"a.txt"}));
    EXPECT_EQ(hash({"?.txt"}), hash({"a.txt"}));
    EXPECT_EQ(hash({"./a.txt"}), hash({"a.txt"}));
    EXPECT_EQ(hash({"# comment\na.txt"}), hash({"a.txt"}));
    EXPECT_EQ(hash({(ws_.path() / "a.txt").string()}), hash({"a.txt"}));
    EXPECT_EQ(hash({"b/../a.txt"}), hash({"a.txt"}));
}

TEST_F(HashFiles, NeverReadsOutsideTheWorkspace) {
    std::ofstream(outside_.path() / "secret") << "secret";
    fs::create_directories(outside_.path() / "dir");
    std::ofstream(outside_.path() / "dir" / "f") << "f";
    fs::create_symlink(outside_.path() / "secret", ws_.path() / "abs-link");
    fs::create_symlink("../" + outside_.path().filename().string() + "/secret",
                       ws_.path() / "rel-link");
    fs::create_symlink(outside_.path() / "dir", ws_.path() / "dir-link");
    EXPECT_EQ(hash({"abs-link"}), "");
    EXPECT_EQ(hash({"rel-link"}), "");
    EXPECT_EQ(hash({"dir-link/**"}), "");
    EXPECT_EQ(hash({"--follow-symbolic-links", "dir-link/**"}), "");
    EXPECT_EQ(hash({"../" + outside_.path().filename().string() + "/secret"}), "");
    EXPECT_EQ(hash({(outside_.path() / "secret").string()}), "");
    EXPECT_EQ(hash({"/etc/passwd"}), "");
    EXPECT_EQ(hash({"/**/secret"}), "");
}

TEST_F(HashFiles, SymlinksInsideTheWorkspace) {
    fs::create_symlink("a.txt", ws_.path() / "file-link");
    EXPECT_EQ(hash({"file-link"}), hash({"a.txt"}));
    fs::create_symlink("b", ws_.path() / "dir-link");
    EXPECT_EQ(hash({"dir-link/**"}), "") << "symlinked directories are not followed by default";
    EXPECT_EQ(hash({"--follow-symbolic-links", "dir-link/**"}), hash({"b/**"}));
    fs::create_symlink("..", ws_.path() / "b" / "loop");
    // As in @actions/glob, only a directory that is its own ancestor on the walked path is
    // skipped: b/loop leads to the workspace root, whose "b" and "dir-link" are then the cycle.
    // So: b/c.txt b/d.log b/loop/.hidden/x.txt b/loop/a.txt b/loop/file-link.
    EXPECT_EQ(hash({"--follow-symbolic-links", "b/**"}), expected({"C", "D", "X", "A", "A"}));
}

TEST_F(HashFiles, SkipsFifosInsteadOfBlocking) {
    ASSERT_EQ(::mkfifo((ws_.path() / "pipe").c_str(), 0600), 0);
    EXPECT_EQ(hash({"pipe"}), "");
    EXPECT_EQ(hash({"*"}), hash({"**"})) << "'*' matches the directories, so all below them";
}

TEST_F(HashFiles, BrokenSymlinkIsAnError) {
    fs::create_symlink("nowhere", ws_.path() / "broken");
    EXPECT_THROW(hash({"broken"}), base::Error);
}

TEST_F(HashFiles, MissingWorkspaceIsAnError) {
    EXPECT_THROW(hashFiles(ws_.path() / "nope", {"**"}), base::Error);
}

TEST_F(HashFiles, ThroughTheExpressionLanguage) {
    EvalContext ctx;
    ctx.workspace = ws_.path();
    auto r = evaluate("hashFiles('**/*.txt', '!b/**')", ctx);
    ASSERT_TRUE(r.has_value()) << r.error().format();
    EXPECT_EQ(*r, Value(expected({"X", "A"})));
    EXPECT_EQ(*evaluate("hashFiles('nothing')", ctx), Value(""));
    EXPECT_EQ(*evaluate("HASHFILES('a.txt')", ctx), Value(hash({"a.txt"})));
    fs::create_symlink("nowhere", ws_.path() / "broken");
    auto err = evaluate("format('{0}', hashFiles('broken'))", ctx);
    ASSERT_FALSE(err.has_value());
    EXPECT_NE(err.error().message.find("broken"), std::string::npos) << err.error().message;
    EXPECT_EQ(err.error().position, 14u);
}

}  // namespace
}  // namespace nixjail::runner::expr
