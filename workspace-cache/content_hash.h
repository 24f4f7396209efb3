// Hex SHA-256 digests, used as cache keys.
#pragma once

#include <string>
#include <string_view>

namespace nixjail::cache {

std::string sha256Hex(std::string_view data);

}  // namespace nixjail::cache
