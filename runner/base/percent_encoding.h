// Percent-encoding (RFC 3986): every byte but the unreserved characters as %XX.
#pragma once

#include <string>
#include <string_view>

namespace nixjail::base {

// "p@ss word" -> "p%40ss%20word"; letters, digits and -_.~ stay as they are.
std::string percentEncoded(std::string_view text);

}  // namespace nixjail::base
