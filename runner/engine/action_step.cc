// `uses:` steps: actions/checkout (native), local and remote composite actions, the fetching of
// remote actions, and clear errors for the kinds of action this runner does not run.
#include <algorithm>

#include "runner/base/ascii.h"
#include "runner/base/beneath.h"
#include "runner/base/error.h"
#include "runner/actions/action_fetch.h"
#include "runner/actions/action_manifest.h"
#include "runner/engine/step_parts.h"
#include "runner/engine/working_tree.h"
#include "runner/network/forge_credentials.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {


bool isCheckout(const std::string& uses) { return base::asciiLower(uses).rfind("actions/checkout@", 0) == 0; }

}  // namespace

bool ActionStep::runCheckout(const workflow::Step& step, StepScope& scope, StepRecord& rec) {
    auto with = [&](const char* key) -> std::string {
        auto it = step.with.find(key);
        return it == step.with.end() ? "" : job_.parts->contexts.eval(it->second, &scope, std::string("input '") + key + "'");
    };
    const std::string repository = with("repository");
    const std::string own = job_.state.github.value("repository", "");
    const fs::path dest = base::plainPathBeneath(job_.dirs().workspace.host, with("path"), "actions/checkout path");
    const std::string shown = (job_.dirs().workspace.jail / with("path")).lexically_normal().string();
    const bool ownRepo = repository.empty() || repository == own;
    if (ownRepo && !job_.opts.repo_dir.empty()) {
        job_.log(LineKind::kRunner, "Copying the local working tree '" + job_.opts.repo_dir.string() + "' to '" + shown + "'");
        copyWorkingTree(job_.opts.repo_dir, dest);
        job_.sandbox->adopt(dest, true);
        rec.exit_code = 0;
        return true;
    }
    // Without a local working tree (the daemon), the job's own repository comes from the forge
    // through the checkout cache too, at the commit that triggered the run.
    const std::string name = ownRepo ? own : repository;
    if (name.empty()) throw base::Error("actions/checkout: no repository to check out (github.repository is empty)");
    if (!job_.opts.checkout_provider) {
        throw base::Error("actions/checkout of '" + name + "' needs the checkout cache, which this run does not have");
    }
    CheckoutSpec spec;
    std::string server = job_.state.github.value("server_url", "");
    while (!server.empty() && server.back() == '/') server.pop_back();
    spec.url = server + "/" + name;
    spec.rev = with("ref");  // empty: the default branch (own repository: the triggering commit)
    if (ownRepo && spec.rev.empty()) {
        spec.rev = job_.state.github.value("sha", "");
        if (spec.rev.empty()) spec.rev = job_.state.github.value("ref", "");
    }
    for (std::string line; const auto& c : with("sparse-checkout") + "\n") {
        if (c != '\n') {
            line += c;
            continue;
        }
        const auto b = line.find_first_not_of(" \t"), e = line.find_last_not_of(" \t\r");
        if (b != std::string::npos) spec.sparse_paths.push_back(line.substr(b, e - b + 1));
        line.clear();
    }
    if (const auto t = with("token"); !t.empty()) {
        spec.token = t;
    } else if (ownRepo && job_.state.github.contains("token") && job_.state.github["token"].is_string() &&
               !job_.state.github["token"].get<std::string>().empty()) {
        spec.token = job_.state.github["token"].get<std::string>();  // actions/checkout's default: github.token
    }
    // The checkout runs here, outside the jail: a dummy the job was given becomes the real token,
    // but only for the hosts its credential is valid on.
    if (spec.token) spec.token = job_.credentials->realValueFor(*spec.token, spec.url);
    spec.with_history = with("fetch-depth") == "0";
    const std::string submodules = base::asciiLower(with("submodules"));
    if (submodules != "" && submodules != "false" && submodules != "true" && submodules != "recursive") {
        throw base::Error("actions/checkout: 'submodules' is '" + submodules + "'; use true, false or recursive");
    }
    spec.list_submodules = submodules == "true" || submodules == "recursive";
    // exec filled the workspace with the working tree; another repository checked out at its root
    // replaces that copy, as actions/checkout empties a directory that holds something else. The
    // entries are removed, never followed.
    if (job_.opts.workspace_from_repo && dest == job_.dirs().workspace.host) {
        for (const auto& e : fs::directory_iterator(dest)) fs::remove_all(e.path());
    }
    // The snapshot makes its own directory: an empty target is replaced, a non-empty one refused.
    if (fs::exists(dest)) {
        if (!fs::is_empty(dest)) {
            throw base::Error("actions/checkout: '" + shown + "' is not empty; give the checkout its own 'path'");
        }
        fs::remove(dest);
    }
    fs::create_directories(dest.parent_path());
    auto lease = job_.opts.checkout_provider(spec, dest);
    job_.log(LineKind::kRunner, "Checked out " + name + " at " + lease->commit() + " (" +
                               (lease->cacheHit() ? "cached" : "fetched") + ") to '" + shown + "'");
    if (spec.list_submodules) checkoutSubmodules(*lease, spec, dest, shown, submodules == "recursive", 1);
    job_.sandbox->adopt(dest, true);
    if (lease->cacheHit()) ++stats_.cached;
    job_.sandbox->keepCheckout(std::move(lease), dest);
    rec.exit_code = 0;
    return true;
}

bool ActionStep::run(const workflow::Step& step, StepScope& scope, StepRecord& rec,
                       const std::vector<std::pair<std::string, std::string>>& stepEnv) {
    const std::string& uses = step.uses;
    if (uses.rfind("docker://", 0) == 0) {
        throw base::Error("step '" + rec.name + "' uses a container image ('" + uses +
                          "'); this runner runs steps in its own jail and does not run containers");
    }
    if (isCheckout(uses)) {
        // Checkouts count as the job's workspace preparation, not as its execution.
        const auto start = std::chrono::steady_clock::now();
        const bool ok = runCheckout(step, scope, rec);
        stats_.time += std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
        ++stats_.count;
        return ok;
    }

    ActionLocation where;
    if (uses.rfind("./", 0) == 0 || uses == ".") {
        where.host = base::plainPathBeneath(job_.dirs().workspace.host, uses, "uses");
        where.jail = (job_.dirs().workspace.jail / uses).lexically_normal();
        where.root = job_.dirs().workspace.host;
        if (!fs::exists(fs::symlink_status(where.host))) {
            throw base::Error("local action '" + uses + "' not found in the workspace; did a checkout step run first?");
        }
    } else {
        where = remoteAction(uses);
    }
    const fs::path& jailDir = where.jail;
    const std::string& repository = where.repository;

    ActionManifest manifest = loadActionManifest(where.root, where.host.lexically_relative(where.root));
    if (manifest.using_ == "docker") {
        throw base::Error("step '" + rec.name + "' uses docker action '" + uses +
                          "'; this runner runs steps in its own jail and does not run containers");
    }
    if (manifest.using_.rfind("node", 0) == 0) {
        return job_.parts->node.run(step, scope, rec, stepEnv, manifest, where);
    }
    if (manifest.using_ != "composite") {
        throw base::Error("action '" + uses + "' has unknown runs.using '" + manifest.using_ + "'");
    }

    StepScope inner;
    inner.action_path = jailDir;
    inner.action_repository = repository;
    inner.env = stepEnv;
    inner.name_prefix = rec.name;
    for (const auto& [k, v] : step.with) {
        if (!manifest.inputs.count(base::asciiLower(k))) {
            job_.log(LineKind::kWarning, "Unexpected input '" + k + "' for action '" + uses + "'");
        }
    }
    for (const auto& [name, input] : manifest.inputs) {
        std::string value;
        auto given = std::find_if(step.with.begin(), step.with.end(),
                                  [&](const auto& kv) { return base::asciiLower(kv.first) == name; });
        if (given != step.with.end()) {
            value = job_.parts->contexts.eval(given->second, &scope, "input '" + name + "'");
        } else if (input.default_value) {
            value = job_.parts->contexts.eval(*input.default_value, &scope, "default of input '" + name + "'");
        } else if (input.required) {
            job_.log(LineKind::kWarning, "Input required and not supplied: " + name);
        }
        inner.inputs[name] = value;
    }
    bool ok = job_.parts->runner.runSteps(manifest.steps, inner);
    for (const auto& [name, value] : manifest.outputs) {
        rec.outputs[name] = job_.parts->contexts.eval(value, &inner, "output '" + name + "' of action '" + uses + "'");
    }
    rec.exit_code = ok ? 0 : 1;
    return ok;
}

ActionLocation ActionStep::remoteAction(const std::string& uses) {
    auto ref = parseActionRef(uses);
    const fs::path cache =
        job_.opts.action_cache_dir.empty() ? job_.sandbox->dir() / "action-cache" : job_.opts.action_cache_dir;
    fetchAction(ref, job_.opts.default_actions_url, cache);  // also checks that ref.path exists
    // Steps see the action through the read-only actions directory of the job.
    const std::string name = ref.owner + "_" + ref.repo + "@" + ref.ref;
    const fs::path root = cache / ref.owner / (ref.repo + "@" + ref.ref);
    if (!fs::exists(job_.dirs().actions.host / name)) {
        fs::copy(root, job_.dirs().actions.host / name,
                 fs::copy_options::recursive | fs::copy_options::copy_symlinks);
        // Readable (never writable) by the jail's step user; the fetch made the top directory 0700.
        const auto readable = [](const fs::path& p) {
            const auto st = fs::symlink_status(p);
            if (fs::is_symlink(st)) return;
            auto add = fs::perms::group_read | fs::perms::others_read;
            if (fs::is_directory(st) ||
                (st.permissions() & fs::perms::owner_exec) != fs::perms::none) {
                add |= fs::perms::group_exec | fs::perms::others_exec;
            }
            fs::permissions(p, add, fs::perm_options::add);
        };
        readable(job_.dirs().actions.host / name);
        for (const auto& e : fs::recursive_directory_iterator(job_.dirs().actions.host / name))
            readable(e.path());
    }
    return {job_.dirs().actions.host / name / ref.path, job_.dirs().actions.jail / name / ref.path, ref.repository(),
            job_.dirs().actions.host / name};
}

}  // namespace nixjail::runner::engine
