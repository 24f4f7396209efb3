// Test helper: compare generated text with a golden file; NIXJAIL_ACCEPT=1 rewrites the file.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "runner/base/file_io.h"

namespace nixjail::executor::testing {

inline void expectGolden(const std::string& name, const std::string& actual) {
    std::filesystem::path path = std::filesystem::path(NIXJAIL_NAMESPACE_TESTDATA) / name;
    const char* accept = std::getenv("NIXJAIL_ACCEPT");
    if (accept && std::string(accept) == "1") {
        base::writeFile(path, actual);
        return;
    }
    ASSERT_TRUE(std::filesystem::exists(path))
        << "missing golden file '" << path.string() << "'; run with NIXJAIL_ACCEPT=1 to create it";
    EXPECT_EQ(actual, base::readFile(path))
        << "golden file '" << path.string() << "' differs; NIXJAIL_ACCEPT=1 rewrites it";
}

}  // namespace nixjail::executor::testing
