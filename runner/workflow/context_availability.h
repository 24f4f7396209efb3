// GitHub's context availability table (docs.github.com, "Contexts" -> "Context availability"):
// which contexts and special functions each workflow key may use. Keys are written as in the
// table ("jobs.<job_id>.steps.if"); composite action steps use "runs.steps.<key>".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nixjail::runner::workflow {

struct Availability {
    std::string_view key;
    std::vector<std::string_view> contexts;
    bool status_functions = false;  // always(), success(), failure(), cancelled()
    bool hash_files = false;
};

// The table's row for `key`, or nullptr when it has none (then every context may be used).
const Availability* availabilityFor(std::string_view key);

// Every context name (github, env, vars, job, jobs, steps, runner, secrets, strategy, matrix,
// needs, inputs); any other named-value is an error wherever it is used.
const std::vector<std::string>& contextNames();

}  // namespace nixjail::runner::workflow
