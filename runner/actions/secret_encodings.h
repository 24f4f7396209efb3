// The forms a secret takes when a step prints it encoded: JSON and XML escapes, URL encoding,
// expression-string quoting, and base64 at each of the three offsets it can have in a longer
// base64 stream (base64 of "user:" + secret is not base64 of the secret). SecretMasker masks each.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nixjail::runner::actions {

// The encoded forms of `value` that differ from it; short base64 fragments (under 6 characters)
// are left out, as masking them would hide ordinary text.
std::vector<std::string> secretEncodings(std::string_view value);

// The base64 characters that depend on `value` alone when it starts `offset` (0, 1 or 2) bytes
// into a 3-byte group of a longer encoded stream: whatever comes before and after it, these
// characters appear in the stream, in this order.
std::string base64Core(std::string_view value, int offset);

}  // namespace nixjail::runner::actions
