#include "runner/actions/output_processor.h"

#include <gtest/gtest.h>

#include <vector>

namespace nixjail::runner::actions {
namespace {

struct Recorder : JobObserver {
    std::vector<LogLine> lines;
    void stepStarted(const StepRecord&) override {}
    void line(const LogLine& l) override { lines.push_back(l); }
    void stepFinished(const StepRecord&) override {}
    std::string texts() const {
        std::string s;
        for (const auto& l : lines) s += l.text + "\n";
        return s;
    }
};

TEST(OutputProcessor, SplitsLinesAcrossChunks) {
    SecretMasker m;
    Recorder r;
    OutputProcessor p(m, r);
    p.feed("hel");
    p.feed("lo\nwor");
    p.feed("ld\r\nlast");
    p.finish();
    EXPECT_EQ(r.texts(), "hello\nworld\nlast\n");
}

TEST(OutputProcessor, LongLinesAreCutWithAMarkerAndTheNextLineStaysVisible) {
    // node's fatal error in a minified bundle: the 300 KB source line, then the error.
    SecretMasker m;
    m.add("s3cr3t");
    Recorder r;
    OutputProcessor p(m, r);
    const std::string huge =
        std::string(kMaxLogLineBytes - 3, 'x') + "s3cr3t" + std::string(300000, 'y');
    p.feed(huge.substr(0, 1000));
    p.feed(huge.substr(1000) + "\nReferenceError: WebAssembly is not defined\n");
    ASSERT_EQ(r.lines.size(), 2u);
    const std::string& cut = r.lines[0].text;
    EXPECT_LE(cut.size(), kMaxLogLineBytes + 64);
    EXPECT_EQ(cut.find("s3c"), std::string::npos);  // masked before the cut
    EXPECT_NE(cut.find("more bytes not shown]"), std::string::npos)
        << cut.substr(kMaxLogLineBytes - 10);
    EXPECT_EQ(r.lines[1].text, "ReferenceError: WebAssembly is not defined");
}

TEST(OutputProcessor, LinesAreNeverCutInsideAUtf8Character) {
    const std::string line = std::string(kMaxLogLineBytes - 1, 'a') + "\u00e9" + "tail";
    const std::string cut = capLine(line);
    EXPECT_EQ(cut.rfind(std::string(kMaxLogLineBytes - 1, 'a') + "… [line cut: ", 0), 0u);
    EXPECT_EQ(capLine("short"), "short");
}

TEST(OutputProcessor, AddMaskHidesLaterOutputAndIsNotEchoed) {
    SecretMasker m;
    Recorder r;
    OutputProcessor p(m, r);
    p.feed("::add-mask::s3cr3t\nthe value is s3cr3t\n");
    EXPECT_EQ(r.texts(), "the value is ***\n");
}

TEST(OutputProcessor, SecretSplitAcrossChunksIsStillMasked) {
    SecretMasker m;
    m.add("topsecret");
    Recorder r;
    OutputProcessor p(m, r);
    p.feed("x tops");
    p.feed("ecret y\n");
    EXPECT_EQ(r.texts(), "x *** y\n");
}

TEST(OutputProcessor, OutputWithoutANewlineIsHeldOnlyUpToTheCap) {
    // A step writing megabytes without a newline: the runner holds at most kMaxPendingLineBytes
    // and lets the rest go out as lines of their own, each cut for display.
    SecretMasker m;
    Recorder r;
    OutputProcessor p(m, r);
    const std::string chunk(64 * 1024, 'z');
    for (int i = 0; i < 48; ++i) p.feed(chunk);  // 3 MiB
    EXPECT_GE(r.lines.size(), 2u) << "nothing was let out before the end of the stream";
    for (const auto& l : r.lines) EXPECT_LE(l.text.size(), kMaxLogLineBytes + 64);
    p.feed("\n");
    p.finish();
    EXPECT_EQ(r.lines.size(), 3u);
}

TEST(OutputProcessor, ASecretAcrossTheCapIsMaskedWhole) {
    SecretMasker m;
    m.add("token-secret-value");
    Recorder r;
    OutputProcessor p(m, r);
    p.feed(std::string(kMaxPendingLineBytes - 2, 'a') + "tok");  // just over the cap
    p.feed("en-secret-value, then more\n");
    p.feed("tok");
    p.feed("en-secret-value\n");
    p.finish();
    const std::string all = r.texts();
    EXPECT_EQ(all.find("tok"), std::string::npos) << all.substr(all.size() - 200);
    EXPECT_EQ(all.find("secret-value"), std::string::npos);
    ASSERT_GE(r.lines.size(), 3u);
    EXPECT_EQ(r.lines[r.lines.size() - 2].text, "***, then more");
    EXPECT_EQ(r.lines.back().text, "***");
}

TEST(OutputProcessor, EncodedSecretAcrossTheCapIsMaskedWhole) {
    SecretMasker m;
    m.add("p@ss word/secret");
    const std::string url = "p%40ss%20word%2Fsecret";  // one of the forms the masker knows
    Recorder r;
    OutputProcessor p(m, r);
    p.feed(std::string(kMaxPendingLineBytes - 5, 'b') + url.substr(0, 10));
    p.feed(url.substr(10) + "\n");
    const std::string all = r.texts();
    EXPECT_EQ(all.find("word%2F"), std::string::npos);
    EXPECT_EQ(all.find("p%40ss"), std::string::npos);
    EXPECT_EQ(r.lines.back().text, "***");
}

TEST(OutputProcessor, GroupsAndAnnotations) {
    SecretMasker m;
    Recorder r;
    OutputProcessor p(m, r);
    p.feed("::group::Build\nin\n::endgroup::\n::error file=f.c,line=2::boom\n::warning::w\n::notice title=T::n\n");
    ASSERT_EQ(r.lines.size(), 6u);
    EXPECT_EQ(r.lines[0].kind, LineKind::kGroupStart);
    EXPECT_EQ(r.lines[0].text, "Build");
    EXPECT_EQ(r.lines[2].kind, LineKind::kGroupEnd);
    EXPECT_EQ(r.lines[3].kind, LineKind::kError);
    EXPECT_EQ(r.lines[3].text, "(f.c:2): boom");
    EXPECT_EQ(r.lines[4].kind, LineKind::kWarning);
    EXPECT_EQ(r.lines[5].text, "T: n");
}

TEST(OutputProcessor, StopCommandsPrintsCommandsVerbatimUntilToken) {
    SecretMasker m;
    Recorder r;
    OutputProcessor p(m, r);
    p.feed("::stop-commands::tok123\n::add-mask::notmasked\n::error::shown\n::tok123::\n::add-mask::hidden\nhidden notmasked\n");
    EXPECT_EQ(r.texts(), "::add-mask::notmasked\n::error::shown\n*** notmasked\n");
}

TEST(OutputProcessor, DeprecatedSetOutputIsCollected) {
    SecretMasker m;
    Recorder r;
    OutputProcessor p(m, r);
    p.feed("::set-output name=x::1\n");
    ASSERT_EQ(p.legacyOutputs().size(), 1u);
    EXPECT_EQ(p.legacyOutputs()[0].second, "1");
}

TEST(OutputProcessor, UpperCaseIndentedAddMaskMasks) {
    SecretMasker m;
    Recorder r;
    OutputProcessor p(m, r);
    p.feed("   ::ADD-MASK::v4lue\nsee v4lue\n");
    EXPECT_EQ(r.texts(), "see ***\n");
}

TEST(OutputProcessor, StopTokenResumesIgnoringCase) {
    SecretMasker m;
    Recorder r;
    OutputProcessor p(m, r);
    p.feed("::stop-commands::Tok\n::TOK::\n::add-mask::x1\nx1\n");
    EXPECT_EQ(r.texts(), "***\n");
}

TEST(OutputProcessor, SetEnvAndAddPathFailWithTheRunnersMessageUnlessAllowed) {
    SecretMasker m;
    Recorder r;
    OutputProcessor p(m, r);
    p.feed("::set-env name=A::1\n::add-path::/x\n");
    EXPECT_TRUE(p.legacyEnv().empty());
    EXPECT_TRUE(p.legacyPath().empty());
    EXPECT_EQ(p.commandError().rfind("The `set-env` command is disabled. Please upgrade to using "
                                     "Environment Files or opt into unsecure command execution by "
                                     "setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment "
                                     "variable to `true`.",
                                     0),
              0u)
        << p.commandError();
    ASSERT_EQ(r.lines.size(), 4u);
    EXPECT_EQ(r.lines[0].kind, LineKind::kError);
    EXPECT_EQ(r.lines[0].text, "Unable to process command '::set-env name=A::1' successfully.");
    EXPECT_NE(r.lines[3].text.find("The `add-path` command is disabled."), std::string::npos);
}

TEST(OutputProcessor, SetEnvAndAddPathWorkWhenAllowed) {
    SecretMasker m;
    Recorder r;
    OutputProcessor p(m, r, true);
    p.feed("::set-env name=A::1\n::add-path::/x\n::set-env name=NODE_OPTIONS::--x\n");
    EXPECT_TRUE(p.commandError().empty());
    ASSERT_EQ(p.legacyEnv().size(), 1u);
    EXPECT_EQ(p.legacyEnv()[0], (std::pair<std::string, std::string>{"A", "1"}));
    ASSERT_EQ(p.legacyPath().size(), 1u);
    EXPECT_EQ(p.legacyPath()[0], "/x");
    EXPECT_EQ(r.texts(), "Can't update NODE_OPTIONS environment variable using ::set-env:: command.\n");
}

}  // namespace
}  // namespace nixjail::runner::actions
