// PATH lookup: the first executable match among absolute entries.
#include "runner/base/find_program.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::base {
namespace {

namespace fs = std::filesystem;

TEST(FindProgram, TheFirstExecutableInAnAbsoluteEntryWins) {
    TempDir dir;
    for (const char* d : {"a", "b", "c"}) fs::create_directories(dir.path() / d);
    writeFile(dir.path() / "a/tool", "not executable");
    writeFile(dir.path() / "b/tool", "#!/bin/sh\n");
    writeFile(dir.path() / "c/tool", "#!/bin/sh\n");
    ::chmod((dir.path() / "b/tool").c_str(), 0755);
    ::chmod((dir.path() / "c/tool").c_str(), 0755);
    const std::string a = (dir.path() / "a").string(), b = (dir.path() / "b").string(),
                      c = (dir.path() / "c").string();
    EXPECT_EQ(findProgram("tool", a + "::" + b + ":" + c), dir.path() / "b/tool");
    EXPECT_EQ(findProgram("tool", c), dir.path() / "c/tool");
    EXPECT_EQ(findProgram("tool", a), fs::path());
    EXPECT_EQ(findProgram("missing", b + ":" + c), fs::path());
    // A relative entry would depend on the current directory: skipped.
    EXPECT_EQ(findProgram("tool", fs::relative(dir.path() / "b").string()), fs::path());
    EXPECT_EQ(findProgram("sh"), findProgram("sh", std::getenv("PATH")));
}

}  // namespace
}  // namespace nixjail::base
