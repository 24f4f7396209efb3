// Base64 (RFC 4648, standard alphabet, padded), as HTTP Basic auth and git's extraheader use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nixjail::base {

std::string base64Encode(std::string_view data);
// Surrounding blanks are ignored; nullopt for a character outside the alphabet or data after
// the padding.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace nixjail::base
