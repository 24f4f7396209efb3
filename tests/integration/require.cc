// The strict-mode switch shared by every integration test.
#include "tests/integration/require.h"

#include <cstdlib>
#include <string_view>

namespace nixjail::testing {

bool strictTests() {
    const char* v = std::getenv("NIXJAIL_TESTS_STRICT");
    return v && std::string_view(v) == "1";
}

}  // namespace nixjail::testing
