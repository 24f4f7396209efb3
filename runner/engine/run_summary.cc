// Building the JSON summary.
#include "runner/engine/run_summary.h"

namespace nixjail::runner::engine {

using Json = nlohmann::json;

nlohmann::json workflowSummary(const std::string& file, const std::string& name, const WorkflowReport& report) {
    Json jobs = Json::array();
    for (const auto& j : report.jobs) {
        Json steps = Json::array();
        for (const auto& s : j.outcome.steps) {
            Json step{{"index", s.index},
                      {"id", s.id},
                      {"name", s.name},
                      {"outcome", resultName(s.outcome)},
                      {"conclusion", resultName(s.conclusion)},
                      {"duration_ms", s.duration.count()},
                      {"exit_code", s.exit_code},
                      {"outputs", s.outputs}};
            if (!s.error.empty()) step["error"] = s.error;
            steps.push_back(std::move(step));
        }
        Json phases = Json::object();
        for (const auto& p : j.outcome.phases) {
            Json phase{{"duration_ms", p.duration.count()}};
            if (p.cache_hit) phase["cache_hit"] = *p.cache_hit;
            for (const auto& [k, v] : p.facts) phase[k] = v;
            phases[phaseName(p.phase)] = std::move(phase);
        }
        Json network = Json::array();
        for (const auto& a : j.outcome.network_audit) {
            network.push_back({{"method", a.method},
                               {"host", a.host},
                               {"port", a.port},
                               {"path", a.path},
                               {"decision", a.decision == proxy::PolicyDecision::kAllow ? "allow" : "deny"},
                               {"enforced", a.enforced},
                               {"rule", a.rule},
                               {"status", a.status},
                               {"credentials", a.credentials}});
        }
        Json job{{"id", j.job_id},
                 {"name", j.name},
                 {"matrix", j.matrix},
                 {"result", resultName(j.outcome.result)},
                 {"duration_ms", j.outcome.duration.count()},
                 {"outputs", j.outcome.outputs},
                 {"phases", phases},
                 {"network", network},
                 {"steps", steps}};
        if (!j.outcome.error.empty()) job["error"] = j.outcome.error;
        if (!j.outcome.summary.empty()) job["step_summary"] = j.outcome.summary;
        jobs.push_back(std::move(job));
    }
    return Json{{"file", file},
                {"name", name},
                {"result", resultName(report.result)},
                {"duration_ms", report.duration.count()},
                {"jobs", jobs}};
}

}  // namespace nixjail::runner::engine
