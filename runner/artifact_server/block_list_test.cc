// parseBlockList: the Put Block List bodies @azure/storage-blob sends, and shapes it refuses.
#include "runner/artifact_server/block_list.h"

#include <gtest/gtest.h>

namespace nixjail::runner::artifact_server {
namespace {

using Ids = std::vector<std::string>;

TEST(BlockList, TheSdksShapeInOrder) {
    EXPECT_EQ(parseBlockList("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
                             "<BlockList><Latest>QUFB</Latest><Latest>QkJC</Latest></BlockList>"),
              (Ids{"QUFB", "QkJC"}));
    EXPECT_EQ(parseBlockList("\n<BlockList>\n  <Committed>a+/=</Committed>\n  "
                             "<Uncommitted>b</Uncommitted><Latest>a+/=</Latest>\n</BlockList>\n"),
              (Ids{"a+/=", "b", "a+/="}));
    EXPECT_EQ(parseBlockList("<BlockList></BlockList>"), Ids{});
}

TEST(BlockList, RefusesAnythingElse) {
    for (const char* bad : {"", "<BlockList>", "<BlockList><Latest>a</Latest>",
                            "<BlockList><Latest>a</Committed></BlockList>",
                            "<BlockList><Latest></Latest></BlockList>",
                            "<BlockList><Latest>a&amp;b</Latest></BlockList>",
                            "<BlockList><Block>a</Block></BlockList>",
                            "<BlockList x=\"1\"><Latest>a</Latest></BlockList>",
                            "<BlockList><Latest>a</Latest></BlockList><BlockList></BlockList>",
                            "<?xml version=\"1.0\"<BlockList></BlockList>"}) {
        EXPECT_FALSE(parseBlockList(bad).has_value()) << bad;
    }
}

}  // namespace
}  // namespace nixjail::runner::artifact_server
