// The rows of GitHub's context availability table, checked against docs.github.com's "Contexts"
// page; composite action rows follow the runner's action.yml schema (no `secrets`, no `needs`).
#include "runner/workflow/context_availability.h"

namespace nixjail::runner::workflow {

namespace {

using C = std::vector<std::string_view>;

const C kGithubInputsVars = {"github", "inputs", "vars"};
const C kJobLevel = {"github", "needs", "strategy", "matrix", "vars", "inputs"};
const C kStepFull = {"github", "needs", "strategy", "matrix", "job",   "runner",
                     "env",    "vars",  "secrets",  "steps",  "inputs"};
const C kStepIf = {"github", "needs", "strategy", "matrix", "job",
                   "runner", "env",   "vars",     "steps",  "inputs"};
const C kContainerEnv = {"github", "needs", "strategy", "matrix",  "job",
                         "runner", "env",   "vars",     "secrets", "inputs"};
const C kCredentials = {"github", "needs", "strategy", "matrix",
                        "env",    "vars",  "secrets",  "inputs"};
const C kComposite = {"github", "inputs", "vars",   "strategy", "matrix",
                      "steps",  "job",    "runner", "env"};

const std::vector<Availability>& table() {
    static const std::vector<Availability> rows = {
        {"run-name", kGithubInputsVars},
        {"concurrency", kGithubInputsVars},
        {"env", {"github", "secrets", "inputs", "vars"}},
        {"on.workflow_call.inputs.<inputs_id>.default", kGithubInputsVars},
        {"on.workflow_call.outputs.<output_id>.value", {"github", "jobs", "vars", "inputs"}},
        {"jobs.<job_id>.concurrency", kJobLevel},
        {"jobs.<job_id>.container", kJobLevel},
        {"jobs.<job_id>.container.credentials", kCredentials},
        {"jobs.<job_id>.container.env.<env_id>", kContainerEnv},
        {"jobs.<job_id>.container.image", kJobLevel},
        {"jobs.<job_id>.continue-on-error", kJobLevel},
        {"jobs.<job_id>.defaults.run",
         {"github", "needs", "strategy", "matrix", "env", "vars", "inputs"}},
        {"jobs.<job_id>.env",
         {"github", "needs", "strategy", "matrix", "vars", "secrets", "inputs"}},
        {"jobs.<job_id>.environment", kJobLevel},
        {"jobs.<job_id>.environment.url",
         {"github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "steps",
          "inputs"}},
        {"jobs.<job_id>.if", {"github", "needs", "vars", "inputs"}, true},
        {"jobs.<job_id>.name", kJobLevel},
        {"jobs.<job_id>.outputs.<output_id>",
         {"github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets",
          "steps", "inputs"}},
        {"jobs.<job_id>.runs-on", kJobLevel},
        {"jobs.<job_id>.secrets.<secrets_id>",
         {"github", "needs", "strategy", "matrix", "secrets", "inputs", "vars"}},
        {"jobs.<job_id>.services", kJobLevel},
        {"jobs.<job_id>.services.<service_id>.credentials", kCredentials},
        {"jobs.<job_id>.services.<service_id>.env.<env_id>", kContainerEnv},
        {"jobs.<job_id>.steps.continue-on-error", kStepFull, false, true},
        {"jobs.<job_id>.steps.env", kStepFull, false, true},
        {"jobs.<job_id>.steps.if", kStepIf, true, true},
        {"jobs.<job_id>.steps.name", kStepFull, false, true},
        {"jobs.<job_id>.steps.run", kStepFull, false, true},
        {"jobs.<job_id>.steps.timeout-minutes", kStepFull, false, true},
        {"jobs.<job_id>.steps.with", kStepFull, false, true},
        {"jobs.<job_id>.steps.working-directory", kStepFull, false, true},
        {"jobs.<job_id>.strategy", {"github", "needs", "vars", "inputs"}},
        {"jobs.<job_id>.timeout-minutes", kJobLevel},
        {"jobs.<job_id>.with.<with_id>", kJobLevel},
        {"runs.steps.if", kComposite, true, true},
        {"runs.steps.name", kComposite, false, true},
        {"runs.steps.run", kComposite, false, true},
        {"runs.steps.env", kComposite, false, true},
        {"runs.steps.with", kComposite, false, true},
        {"runs.steps.working-directory", kComposite, false, true},
        {"runs.steps.continue-on-error", kComposite, false, true},
        {"runs.steps.timeout-minutes", kComposite, false, true},
    };
    return rows;
}

}  // namespace

const Availability* availabilityFor(std::string_view key) {
    for (const auto& row : table()) {
        if (row.key == key) return &row;
    }
    return nullptr;
}

const std::vector<std::string>& contextNames() {
    static const std::vector<std::string> names = {"github",   "env",    "vars",   "job",
                                                   "jobs",     "steps",  "runner", "secrets",
                                                   "strategy", "matrix", "needs",  "inputs"};
    return names;
}

}  // namespace nixjail::runner::workflow
