// The body of Azure's Put Block List (`PUT <blob>?comp=blocklist`) as @azure/storage-blob sends it:
// <?xml ...?><BlockList><Latest>id</Latest>...</BlockList>, where each id is the base64 block id
// of an earlier `comp=block` request. Pure, so that the shapes are pinned by unit tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nixjail::runner::artifact_server {

// The block ids in order (<Latest>, <Committed> and <Uncommitted> alike: this store keeps one
// version of each block); nullopt unless the text is one BlockList element of such entries
// (an XML declaration and whitespace around them are fine; entities, comments and attributes
// are not).
std::optional<std::vector<std::string>> parseBlockList(std::string_view xml);

}  // namespace nixjail::runner::artifact_server
