// Probing for a feature a test needs: skip with the reason, or fail under NIXJAIL_TESTS_STRICT=1.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace nixjail::testing {

// True when NIXJAIL_TESTS_STRICT=1 (CI as root), where a missing feature is a failure.
bool strictTests();

}  // namespace nixjail::testing

// Use in a test body or a fixture's SetUp: GTEST_SKIP only returns from the enclosing function.
#define NIXJAIL_REQUIRE(cond, reason)                                                           \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            if (::nixjail::testing::strictTests()) FAIL() << "required (strict): " << (reason); \
            GTEST_SKIP() << (reason);                                                           \
        }                                                                                       \
    } while (0)
