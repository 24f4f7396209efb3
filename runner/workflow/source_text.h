// A YAML file's text, for turning yaml-cpp marks and offsets inside scalars into diagnostics with
// file:line:col and the source line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "runner/workflow/diagnostic.h"

namespace nixjail::runner::workflow {

class SourceText {
  public:
    SourceText(const std::string& text, std::string file);

    const std::string& file() const { return file_; }

    // A diagnostic at a yaml-cpp mark (0-based line and column).
    Diagnostic at(const YAML::Mark& mark, std::string message) const;

    // A diagnostic about `node`. yaml-cpp marks an empty value (a bare `-` item, a `key:` with
    // nothing after it) at the token that follows it, often on a later line; such a diagnostic
    // points at the `-` or `:` that holds the empty value instead.
    Diagnostic atNode(const YAML::Node& node, std::string message) const;

    // A diagnostic at `offset` into `value`, the text of the scalar `node`. An offset inside the
    // k-th `${{` of the value lands inside the k-th `${{` written after the node's mark, so the
    // column is exact for expressions in plain, quoted and block scalars alike.
    Diagnostic inScalar(const YAML::Node& node, std::string_view value, size_t offset,
                        std::string message) const;

  private:
    Diagnostic atOffset(size_t offset, std::string message) const;

    std::string file_;
    std::string text_;
    std::vector<size_t> line_starts_;
};

}  // namespace nixjail::runner::workflow
