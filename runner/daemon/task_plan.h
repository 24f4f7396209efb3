// Turning a forge task into a job to run: its single-job workflow parsed (with stand-ins for the
// jobs it needs), the job instance planned, and the RunOptions the daemon gives it. Shared by the
// daemon (task_runner.cc) and `nixjail-runner replay`, which runs a recorded task again.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runner/daemon/task_runner.h"
#include "runner/engine/job_runner.h"
#include "runner/forge/forge_client.h"
#include "runner/workflow/workflow.h"

namespace nixjail::runner::daemon {

// What a task needs to run: the parsed workflow (which the instance points into) and options.
struct PreparedJob {
    std::unique_ptr<workflow::Workflow> workflow;
    const workflow::Job* job = nullptr;
    engine::JobInstance instance;
    engine::RunOptions options;
    std::vector<std::string> labels;
};

// Fills `p` for `task`; throws base::Error saying what is wrong with the task (invalid workflow,
// not exactly one job, no matrix combination). Of `res` it reads config, job_defaults,
// task_root_provider, label_policies, forge_address and actions_cache(_url). The options carry the
// task's real tokens and secrets: the caller masks with them.
void prepareTask(PreparedJob& p, const forge::Task& task, const JobResources& res);

// The string value of ctx[key] ("" when absent or null; other JSON dumped).
std::string contextString(const nlohmann::json& ctx, const char* key);

// The token for the artifact and cache APIs: the runtime token, or the task token on forges too
// old to send one.
std::string runtimeToken(const forge::Task& task);

}  // namespace nixjail::runner::daemon
