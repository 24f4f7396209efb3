// YAML mappings with the same key twice: yaml-cpp keeps both pairs and lookups see only one, so
// GitHub's refusal ("'x' is already defined") has to be checked by walking the tree.
#pragma once

#include <yaml-cpp/yaml.h>

#include "runner/workflow/diagnostic.h"
#include "runner/workflow/source_text.h"

namespace nixjail::runner::workflow {

// Reports each repeated key of every mapping under node, at the repetition.
void checkDuplicateKeys(const YAML::Node& node, const SourceText& src, Diagnostics& out);

}  // namespace nixjail::runner::workflow
