// ReplayRecord: what the daemon keeps of each job (jobs.replay, migration 007) so that
// `nixjail-runner replay` can run it again: the task as the forge sent it without any secret's
// value or the task's tokens, the job's matrix combination, and what its root was made from.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runner/actions/secret_masker.h"
#include "runner/forge/forge_client.h"

namespace nixjail::runner::daemon {

// What a job's root was made from (root_witness.h).
struct RootRecord {
    // The engine's request: declared packages (the runner's, the label's, NIXJAIL_PACKAGES), the
    // runs-on labels (for a default set) and what it added (nodejs for JavaScript actions).
    std::vector<std::string> packages;
    std::vector<std::string> labels;
    std::vector<std::string> extra;
    std::string source;  // what the closure came from, as the job log said
    std::string closure_key;
    std::string nixpkgs;  // empty: no package was resolved in a nixpkgs (a devShell alone)
    std::string nixpkgs_identity;
};

struct ReplayRecord {
    std::string workflow_payload;  // the single-job YAML as the forge sent it
    // The task's github context (event and event_name included, server_url as the job saw it)
    // without its tokens.
    nlohmann::json context = nlohmann::json::object();
    std::map<std::string, std::string> vars;
    std::map<std::string, forge::TaskNeed> needs;
    std::string job_id;  // empty: the task failed before its job was known
    nlohmann::json matrix = nlohmann::json::object();
    // The names of the task's secrets: those holding the task's own token (GITHUB_TOKEN,
    // GITEA_TOKEN, ...), which expired with the task, and the others.
    std::vector<std::string> secret_names;
    std::vector<std::string> token_secret_names;
    std::optional<RootRecord> root;  // none: the job got no Nix root (or failed before)
    // Fields in which a secret's value also occurred and was masked as ***: a replay runs them
    // as masked.
    std::vector<std::string> masked;
};

// The record of `task` without job, matrix or root (the caller adds them once known). The context
// loses its tokens (`token`, `gitea_runtime_token`, any other `*_token`); of the secrets only the
// names are kept. `forge_address`: the server_url of a context that names none.
ReplayRecord replayRecordOf(const forge::Task& task, const std::string& forge_address);

// As JSON text, every string (and key) passed through `masker`, which must know the task's secrets
// and tokens: no secret's value can be in the text. Sets "masked" to the fields it changed.
std::string replayJson(const ReplayRecord& record, const actions::SecretMasker& masker);

// Reads what replayJson wrote; throws base::Error saying what is wrong with `text`.
ReplayRecord parseReplayRecord(const std::string& text);

// The task to run again: the record's workflow, context, vars and needs under `task_id`, with
// `secrets` (whatever the caller has of them).
forge::Task taskOf(const ReplayRecord& record, int64_t task_id,
                   std::map<std::string, std::string> secrets);

}  // namespace nixjail::runner::daemon
