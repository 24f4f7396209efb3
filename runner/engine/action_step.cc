// `uses:` steps: actions/checkout (native), local and remote composite actions, the fetching of
// remote actions, and clear errors for the kinds of action this runner does not run.
#include <algorithm>

#include "runner/base/ascii.h"
#include "runner/base/beneath.h"
#include "runner/base/error.h"
#include "runner/actions/action_fetch.h"
#include "runner/actions/action_manifest.h"
#include "runner/actions/checkout_inputs.h"
#include "runner/engine/step_parts.h"
#include "runner/engine/working_tree.h"
#include "runner/network/forge_credentials.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {


bool isCheckout(const std::string& uses) { return base::asciiLower(uses).rfind("actions/checkout@", 0) == 0; }

}  // namespace

bool ActionStep::runCheckout(const workflow::Step& step, StepScope& scope, StepRecord& rec) {
    const actions::CheckoutInputs in = actions::readCheckoutInputs([&](const char* key) -> std::string {
        auto it = step.with.find(key);
        return it == step.with.end() ? "" : job_.parts->contexts.eval(it->second, &scope, std::string("input '") + key + "'");
    });
    const std::string own = job_.state.github.value("repository", "");
    const fs::path dest = base::plainPathBeneath(job_.dirs().workspace.host, in.path, "actions/checkout path");
    const std::string shown = (job_.dirs().workspace.jail / in.path).lexically_normal().string();
    const bool ownRepo = in.repository.empty() || in.repository == own;
    // exec: the workflow's own repository is the local working tree, copied with its .git and
    // uncommitted changes (as act does), unless the step asks for another ref or a sparse
    // checkout: those come from the local repository's commits through the checkout cache.
    const bool fromLocalCommits = ownRepo && !job_.opts.repo_dir.empty() && (!in.ref.empty() || !in.sparse_checkout.empty());
    if (ownRepo && !job_.opts.repo_dir.empty() && !fromLocalCommits) {
        job_.log(LineKind::kRunner, "Copying the local working tree '" + job_.opts.repo_dir.string() + "' to '" + shown + "'");
        if (in.fetch_depth_given || in.fetch_tags_given) {
            job_.log(LineKind::kWarning, "actions/checkout: fetch-depth and fetch-tags do not apply to the local working tree, "
                                         "which is copied with its whole .git; give 'ref' to check out from its commits instead");
        }
        copyWorkingTree(job_.opts.repo_dir, dest);
        job_.sandbox->adopt(dest, true);
        rec.exit_code = 0;
        return true;
    }
    // Without a local working tree (the daemon), the job's own repository comes from the forge
    // through the checkout cache too, at the commit that triggered the run.
    const std::string name = ownRepo ? own : in.repository;
    if (name.empty()) throw base::Error("actions/checkout: no repository to check out (github.repository is empty)");
    if (!job_.opts.checkout_provider) {
        throw base::Error("actions/checkout of '" + name + "' needs the checkout cache, which this run does not have");
    }
    std::string server = in.server_url.empty() ? job_.state.github.value("server_url", "") : in.server_url;
    while (!server.empty() && server.back() == '/') server.pop_back();
    CheckoutSpec spec;
    spec.url = server + "/" + name;
    spec.git_dir = cache::GitDirRequest{.depth = in.fetch_depth, .fetch_tags = in.fetch_tags};
    spec.rev = in.ref;  // empty: the default branch (own repository: the triggering commit)
    if (ownRepo && spec.rev.empty()) {
        // As actions/checkout: the triggering commit, named after the triggering ref.
        spec.rev = job_.state.github.value("sha", "");
        spec.git_dir->ref = job_.state.github.value("ref", "");
        if (spec.rev.empty() || spec.rev.find_first_not_of('0') == std::string::npos) spec.rev = spec.git_dir->ref;
    }
    if (fromLocalCommits) {
        if (spec.rev.empty()) {
            throw base::Error("actions/checkout: the local working tree '" + job_.opts.repo_dir.string() +
                              "' has no commit to check out; commit first or drop 'sparse-checkout'");
        }
        job_.log(LineKind::kRunner, "Checking out " + (in.ref.empty() ? std::string("the current commit") : "'" + in.ref + "'") +
                                        " from the local repository '" + job_.opts.repo_dir.string() +
                                        "' (its commits: uncommitted changes are not included)");
        spec.git_dir->origin_url = spec.url;
        spec.url = job_.opts.repo_dir.string();
    }
    spec.sparse_paths = in.sparse_checkout;
    spec.sparse_cone = in.sparse_cone;
    // The token as the job sees it (the dummy of a proxied one), for persist-credentials.
    std::string jobToken = in.token;
    // actions/checkout's default is github.token for any repository, not only the workflow's own
    // (another repository of the same forge is read with it too).
    if (jobToken.empty() && job_.state.github.contains("token") && job_.state.github["token"].is_string()) {
        jobToken = job_.state.github["token"].get<std::string>();
    }
    // The checkout runs here, outside the jail: a dummy the job was given becomes the real token,
    // but only for the hosts its credential is valid on.
    if (!jobToken.empty() && !fromLocalCommits) spec.token = job_.credentials->realValueFor(jobToken, spec.url);
    if (!in.filter.empty()) {
        job_.log(LineKind::kRunner, "actions/checkout: filter '" + in.filter + "' needs no partial clone here: the "
                                    "objects come from the runner's mirror, and the repository holds all it needs");
    }
    spec.list_submodules = !in.submodules.empty();
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
                               (lease->cacheHit() ? "cached" : "fetched") + ", " +
                               (in.fetch_depth == 0 ? std::string("all history") : "depth " + std::to_string(in.fetch_depth)) +
                               ") to '" + shown + "'");
    if (spec.list_submodules) checkoutSubmodules(*lease, spec, dest, shown, in.submodules == "recursive", 1);
    // persist-credentials: later steps' git authenticates with the token the job has (a dummy the
    // proxy swaps on the forge's host); the real one never enters the workspace.
    if (in.persist_credentials && !jobToken.empty()) cache::persistCredentials(dest, server, jobToken);
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
