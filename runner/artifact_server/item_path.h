// Pure checks and codings for the names and paths clients send to the artifact server: an
// artifact's name and the relative path of a file in it must never leave the run's directory.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nixjail::runner::artifact_server {

// `raw` as a relative path of one or more '/'-separated components, unchanged; nullopt when it
// is empty, absolute, has an empty, "." or ".." component, a backslash, a NUL or a control
// character, or is longer than 1024 bytes (255 per component).
std::optional<std::string> cleanItemPath(std::string_view raw);

// An artifact name or run id: exactly one component as cleanItemPath accepts it.
bool isSafeName(std::string_view name);

// "%XX"-decodes a URL path (no '+' rule); nullopt when an escape is malformed.
std::optional<std::string> percentDecode(std::string_view in);

// Escapes every byte but unreserved characters and '/', for building URLs from stored paths.
std::string percentEncodePath(std::string_view in);

}  // namespace nixjail::runner::artifact_server
