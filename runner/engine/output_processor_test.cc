#include "runner/engine/output_processor.h"

#include <gtest/gtest.h>

#include <vector>

namespace nixjail::runner::engine {
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

}  // namespace
}  // namespace nixjail::runner::engine
