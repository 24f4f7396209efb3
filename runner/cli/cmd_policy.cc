// `nixjail-runner policy suggest`: the smallest allow-policy for what a job did on the network,
// from the daemon's records of a job (best run with proxy.mode: audit) or from an exec run's JSON
// summary (exec --network-audit --json-summary FILE).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "proxy/policy.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/cli/commands.h"
#include "runner/config/runner_config.h"
#include "runner/network/secret_placeholder.h"
#include "runner/store/job_store.h"

namespace nixjail::runner::cli {

namespace {

struct PolicyFlags {
    int64_t job = 0;
    std::string config, database, summary;
};

// What a job did on the network: its requests, and which credential went to which host.
struct Observed {
    std::vector<proxy::ObservedRequest> requests;
    std::vector<std::pair<std::string, std::string>> sent;  // (credential name, host)
};

Observed fromDatabase(const PolicyFlags& f) {
    const auto cfg = config::loadConfigFile(f.config);
    store::JobStore db(f.database.empty() ? cfg.database : std::filesystem::path(f.database));
    Observed seen;
    for (const auto& d : db.networkDecisions(f.job)) {
        seen.requests.push_back({d.method, d.host, d.path});
        for (size_t start = 0; start < d.credential_name.size();) {
            const size_t comma = std::min(d.credential_name.find(',', start), d.credential_name.size());
            seen.sent.emplace_back(d.credential_name.substr(start, comma - start), d.host);
            start = comma + 1;
        }
    }
    return seen;
}

Observed fromSummary(const std::string& file) {
    nlohmann::json summary;
    try {
        summary = nlohmann::json::parse(base::readFile(file));
    } catch (const nlohmann::json::exception& e) {
        throw base::Error("'" + file + "' is not an exec --json-summary file: " + e.what());
    }
    Observed seen;
    for (const auto& wf : summary.value("workflows", nlohmann::json::array())) {
        for (const auto& job : wf.value("jobs", nlohmann::json::array())) {
            for (const auto& r : job.value("network", nlohmann::json::array())) {
                seen.requests.push_back({r.value("method", ""), r.value("host", ""), r.value("path", "")});
                for (const auto& name : r.value("credentials", nlohmann::json::array())) {
                    if (name.is_string()) seen.sent.emplace_back(name.get<std::string>(), r.value("host", ""));
                }
            }
        }
    }
    return seen;
}

int suggest(const PolicyFlags& f) {
    if ((f.job > 0) == !f.summary.empty()) {
        throw base::Error("give a job id from `nixjail-runner jobs` or --summary FILE from exec, not both");
    }
    const auto seen = f.summary.empty() ? fromDatabase(f) : fromSummary(f.summary);
    if (seen.requests.empty()) {
        throw base::Error(std::string("no network requests recorded for ") +
                          (f.summary.empty() ? "job " + std::to_string(f.job) : "'" + f.summary + "'") +
                          "; run it with the proxy in audit mode (exec --network-audit, daemon proxy.mode: audit)");
    }
    fmt::print("{}{}", proxy::suggestPolicy(seen.requests), network::suggestSecretHosts(seen.sent));
    return 0;
}

}  // namespace

void addPolicyCommand(CLI::App& app, int& exit_code) {
    auto f = std::make_shared<PolicyFlags>();
    auto* cmd = app.add_subcommand("policy", "Work with network policies");
    cmd->require_subcommand(1);
    auto* sug = cmd->add_subcommand("suggest", "Print the smallest policy that allows what a job did on the network");
    sug->add_option("job", f->job, "the job's id in the daemon's database (see `nixjail-runner jobs`)");
    sug->add_option("-c,--config", f->config, "the daemon's configuration file (for its database)");
    sug->add_option("--database", f->database, "the job database (default: `database` from the configuration)");
    sug->add_option("--summary", f->summary, "an exec --json-summary file instead of the database");
    sug->callback([f, &exit_code] {
        try {
            exit_code = suggest(*f);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "nixjail-runner policy suggest: %s\n", e.what());
            exit_code = 1;
        }
    });
}

}  // namespace nixjail::runner::cli
