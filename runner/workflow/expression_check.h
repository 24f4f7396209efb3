// Load-time checks of every `${{ }}` and `if:` in a workflow or composite action: syntax, unknown
// context names, contexts and special functions not available at that key.
#pragma once

#include <yaml-cpp/yaml.h>

#include "runner/workflow/diagnostic.h"
#include "runner/workflow/source_text.h"

namespace nixjail::runner::workflow {

// Checks the workflow's YAML tree; adds one diagnostic per bad value.
void checkWorkflowExpressions(const YAML::Node& root, const SourceText& src, Diagnostics& out);

// Checks a composite action's `runs.steps` (action.yml), where `secrets` and `needs` are absent.
void checkCompositeStepExpressions(const YAML::Node& steps, const SourceText& src,
                                   Diagnostics& out);

}  // namespace nixjail::runner::workflow
