// Comparing a replay with the job's record.
#include "runner/cli/replay_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace nixjail::runner::cli {

namespace {

using Json = nlohmann::json;

std::string closureOf(const std::optional<daemon::RootRecord>& root) {
    return root ? root->closure_key : "";
}

std::string describe(const std::optional<daemon::RootRecord>& root) {
    if (!root) return "no root";
    return root->closure_key + " (" + root->source + ")";
}

}  // namespace

ReplayComparison compareReplay(const std::vector<store::StepRecord>& recorded,
                               const std::vector<StepResult>& replayed,
                               std::optional<daemon::RootRecord> recorded_root,
                               std::optional<daemon::RootRecord> replay_root) {
    ReplayComparison c;
    std::map<int64_t, ReplayComparison::Step> by_index;
    for (const auto& s : recorded) {
        auto& row = by_index[s.index];
        row.index = s.index;
        row.recorded_name = s.name;
        row.recorded = s.status;
    }
    for (const auto& s : replayed) {
        auto& row = by_index[s.index];
        row.index = s.index;
        row.replay_name = s.name;
        row.replay = s.status;
    }
    for (auto& [_, row] : by_index) {
        if (row.recorded != row.replay || row.recorded_name != row.replay_name)
            c.steps_same = false;
        c.steps.push_back(std::move(row));
    }
    c.closure_same = closureOf(recorded_root) == closureOf(replay_root);
    c.nixpkgs_changed = recorded_root && replay_root && !recorded_root->nixpkgs.empty() &&
                        recorded_root->nixpkgs == replay_root->nixpkgs &&
                        recorded_root->nixpkgs_identity != replay_root->nixpkgs_identity;
    c.recorded_root = std::move(recorded_root);
    c.replay_root = std::move(replay_root);
    return c;
}

std::string comparisonText(const ReplayComparison& c) {
    size_t width = 4;
    for (const auto& s : c.steps)
        width = std::max({width, s.recorded_name.size(), s.replay_name.size()});
    std::string out =
        fmt::format("{:<3} {:<{}}  {:<9}  {}\n", "#", "STEP", width, "RECORDED", "REPLAY");
    for (const auto& s : c.steps) {
        const std::string& name = s.replay_name.empty() ? s.recorded_name : s.replay_name;
        out += fmt::format(
            "{:<3} {:<{}}  {:<9}  {}{}\n", s.index + 1, name, width,
            s.recorded.empty() ? "-" : s.recorded, s.replay.empty() ? "-" : s.replay,
            s.recorded_name != s.replay_name && !s.recorded_name.empty() && !s.replay_name.empty()
                ? "  (recorded as '" + s.recorded_name + "')"
                : "");
    }
    out += c.steps_same ? "steps: the same results as recorded\n"
                        : "steps: the results differ from the recorded ones\n";
    if (!c.recorded_root && !c.replay_root) {
        out += "closure: none (the job ran without a Nix root, then and now)\n";
    } else if (c.closure_same) {
        out += "closure: " + closureOf(c.replay_root ? c.replay_root : c.recorded_root) +
               " (the same as recorded)\n";
    } else {
        out += "closure: recorded " + describe(c.recorded_root) + ", replay " +
               describe(c.replay_root) + "\n";
    }
    return out;
}

std::vector<std::string> comparisonWarnings(const ReplayComparison& c) {
    std::vector<std::string> out;
    if (!c.steps_same)
        out.push_back("the replay's step results differ from the recorded ones (see the table)");
    if (!c.closure_same) {
        if (c.recorded_root && c.replay_root) {
            out.push_back("the replay's closure differs from the recorded one: recorded " +
                          describe(c.recorded_root) + ", replay " + describe(c.replay_root) +
                          "; the packages or what they resolve to changed since");
        } else if (c.recorded_root) {
            out.push_back("the job ran in a root of closure " + describe(c.recorded_root) +
                          ", the replay made none (another executor, or the job failed before)");
        } else {
            out.push_back("the job ran without a Nix root, the replay in one of closure " +
                          describe(c.replay_root) + " (another executor)");
        }
    }
    if (c.nixpkgs_changed) {
        out.push_back("nixpkgs '" + c.replay_root->nixpkgs +
                      "' is not what it was when the job ran (its files, or the NIX_* settings and "
                      "nixpkgs configuration it is evaluated with, changed)");
    }
    return out;
}

Json comparisonJson(const ReplayComparison& c) {
    Json steps = Json::array();
    for (const auto& s : c.steps) {
        steps.push_back({{"index", s.index},
                         {"name", s.replay_name.empty() ? s.recorded_name : s.replay_name},
                         {"recorded", s.recorded.empty() ? Json(nullptr) : Json(s.recorded)},
                         {"replay", s.replay.empty() ? Json(nullptr) : Json(s.replay)}});
    }
    auto closure = [](const std::optional<daemon::RootRecord>& r) {
        return r ? Json(r->closure_key) : Json(nullptr);
    };
    return {{"steps", steps},
            {"steps_same", c.steps_same},
            {"closure",
             {{"recorded", closure(c.recorded_root)},
              {"replay", closure(c.replay_root)},
              {"same", c.closure_same}}},
            {"nixpkgs_changed", c.nixpkgs_changed}};
}

}  // namespace nixjail::runner::cli
