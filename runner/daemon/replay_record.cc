// The replay record: built from a task without its secrets, written as masked JSON, read back.
#include "runner/daemon/replay_record.h"

#include <algorithm>
#include <cctype>

#include "runner/base/error.h"

namespace nixjail::runner::daemon {

namespace {

using Json = nlohmann::json;

constexpr int kVersion = 1;

// The context's tokens: the task token, the runtime token, and whatever token a forge adds.
bool isTokenKey(const std::string& key) {
    std::string k = key;
    for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return k == "token" || (k.size() > 6 && k.compare(k.size() - 6, 6, "_token") == 0);
}

std::string stringAt(const Json& ctx, const char* key) {
    return ctx.contains(key) && ctx[key].is_string() ? ctx[key].get<std::string>() : "";
}

// `j` with every string and object key masked; *changed tells whether anything was.
Json masked(const Json& j, const actions::SecretMasker& masker, bool* changed) {
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        std::string m = masker.mask(s);
        if (m != s) *changed = true;
        return m;
    }
    if (j.is_array()) {
        Json out = Json::array();
        for (const auto& v : j) out.push_back(masked(v, masker, changed));
        return out;
    }
    if (j.is_object()) {
        Json out = Json::object();
        for (const auto& [k, v] : j.items()) {
            std::string key = masker.mask(k);
            if (key != k) *changed = true;
            out[key] = masked(v, masker, changed);
        }
        return out;
    }
    return j;
}

Json rootJson(const RootRecord& r) {
    return {{"packages", r.packages},
            {"labels", r.labels},
            {"extra", r.extra},
            {"source", r.source},
            {"closure_key", r.closure_key},
            {"nixpkgs", r.nixpkgs},
            {"nixpkgs_identity", r.nixpkgs_identity}};
}

RootRecord rootOf(const Json& j) {
    RootRecord r;
    r.packages = j.value("packages", std::vector<std::string>{});
    r.labels = j.value("labels", std::vector<std::string>{});
    r.extra = j.value("extra", std::vector<std::string>{});
    r.source = j.value("source", "");
    r.closure_key = j.value("closure_key", "");
    r.nixpkgs = j.value("nixpkgs", "");
    r.nixpkgs_identity = j.value("nixpkgs_identity", "");
    return r;
}

}  // namespace

ReplayRecord replayRecordOf(const forge::Task& task, const std::string& forge_address) {
    ReplayRecord r;
    r.workflow_payload = task.workflow_payload;
    const std::string token = stringAt(task.context, "token");
    const std::string runtime = stringAt(task.context, "gitea_runtime_token");
    if (task.context.is_object()) {
        for (const auto& [k, v] : task.context.items()) {
            if (!isTokenKey(k)) r.context[k] = v;
        }
    }
    // As the daemon fills it in for the job (task_plan.cc).
    if (stringAt(r.context, "server_url").empty()) r.context["server_url"] = forge_address;
    r.vars = task.vars;
    r.needs = task.needs;
    for (const auto& [name, value] : task.secrets) {
        const bool isToken = !value.empty() && (value == token || value == runtime);
        (isToken ? r.token_secret_names : r.secret_names).push_back(name);
    }
    return r;
}

std::string replayJson(const ReplayRecord& r, const actions::SecretMasker& masker) {
    Json needs = Json::object();
    for (const auto& [id, need] : r.needs)
        needs[id] = {{"result", forge::resultName(need.result)}, {"outputs", need.outputs}};
    const Json fields = {{"workflow_payload", r.workflow_payload},
                         {"context", r.context},
                         {"vars", r.vars},
                         {"needs", needs},
                         {"job_id", r.job_id},
                         {"matrix", r.matrix},
                         {"secret_names", r.secret_names},
                         {"token_secret_names", r.token_secret_names},
                         {"root", r.root ? rootJson(*r.root) : Json(nullptr)}};
    Json out = {{"version", kVersion}};
    std::vector<std::string> maskedFields = r.masked;
    for (const auto& [k, v] : fields.items()) {
        bool changed = false;
        out[k] = masked(v, masker, &changed);
        if (changed && std::find(maskedFields.begin(), maskedFields.end(), k) == maskedFields.end())
            maskedFields.push_back(k);
    }
    out["masked"] = maskedFields;
    // Text that is not UTF-8 (a payload is the forge's bytes) must not stop the record.
    return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

ReplayRecord parseReplayRecord(const std::string& text) {
    try {
        const Json j = Json::parse(text);
        const int version = j.at("version").get<int>();
        if (version > kVersion) {
            throw base::Error("the replay record has version " + std::to_string(version) +
                              ", this nixjail-runner reads up to " + std::to_string(kVersion) +
                              "; it was written by a newer release: upgrade nixjail-runner");
        }
        ReplayRecord r;
        r.workflow_payload = j.at("workflow_payload").get<std::string>();
        r.context = j.at("context");
        r.vars = j.at("vars").get<std::map<std::string, std::string>>();
        for (const auto& [id, need] : j.at("needs").items()) {
            r.needs[id] = {need.at("outputs").get<std::map<std::string, std::string>>(),
                           forge::parseResult(need.at("result"))};
        }
        r.job_id = j.at("job_id").get<std::string>();
        r.matrix = j.at("matrix");
        r.secret_names = j.at("secret_names").get<std::vector<std::string>>();
        r.token_secret_names = j.at("token_secret_names").get<std::vector<std::string>>();
        if (!j.at("root").is_null()) r.root = rootOf(j.at("root"));
        r.masked = j.value("masked", std::vector<std::string>{});
        return r;
    } catch (const Json::exception& e) {
        throw base::Error(
            std::string("the replay record is not what this nixjail-runner writes: ") + e.what());
    }
}

forge::Task taskOf(const ReplayRecord& r, int64_t task_id,
                   std::map<std::string, std::string> secrets) {
    forge::Task t;
    t.id = task_id;
    t.workflow_payload = r.workflow_payload;
    t.context = r.context;
    t.secrets = std::move(secrets);
    t.vars = r.vars;
    t.needs = r.needs;
    return t;
}

}  // namespace nixjail::runner::daemon
