// github.head_ref/base_ref from a pull request payload, and typed inputs.
#include "runner/engine/event_context.h"

#include <charconv>
#include <cmath>

#include "runner/base/ascii.h"

namespace nixjail::runner::engine {

using Json = nlohmann::json;

namespace {

std::string refOf(const Json& event, const char* side) {
    if (!event.is_object()) return {};
    const auto pr = event.find("pull_request");
    if (pr == event.end() || !pr->is_object()) return {};
    const auto s = pr->find(side);
    if (s == pr->end() || !s->is_object()) return {};
    const auto ref = s->find("ref");
    return ref != s->end() && ref->is_string() ? ref->get<std::string>() : std::string();
}

bool emptyText(const Json& github, const char* key) {
    const auto it = github.find(key);
    return it == github.end() || !it->is_string() || it->get<std::string>().empty();
}

// The declared type of input `name` under on.<event>.inputs, else on.workflow_call.inputs.
std::string declaredType(const workflow::Workflow& wf, const std::string& event_name,
                         const std::string& name) {
    for (const std::string& event : {event_name, std::string("workflow_call")}) {
        const Json inputs = wf.triggerSection(event, "inputs");
        if (!inputs.contains(name)) continue;
        const Json& spec = inputs[name];
        if (spec.is_object() && spec.contains("type") && spec["type"].is_string())
            return spec["type"].get<std::string>();
        return "string";
    }
    return "string";
}

Json asNumber(const std::string& text) {
    double value = 0;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc() || end != last || text.empty() || !std::isfinite(value)) return text;
    if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0)
        return static_cast<long long>(value);
    return value;
}

}  // namespace

void fillPullRequestRefs(Json& github, const std::string& event_name, const Json& event) {
    if (event_name != "pull_request" && event_name != "pull_request_target") return;
    if (emptyText(github, "head_ref")) github["head_ref"] = refOf(event, "head");
    if (emptyText(github, "base_ref")) github["base_ref"] = refOf(event, "base");
}

Json typedInputs(const workflow::Workflow& wf, const std::string& event_name,
                 const std::map<std::string, std::string>& inputs) {
    Json out = Json::object();
    for (const auto& [name, text] : inputs) {
        const std::string type = declaredType(wf, event_name, name);
        if (type == "boolean") {
            const std::string lower = base::asciiLower(text);
            out[name] = lower == "true" ? Json(true) : lower == "false" ? Json(false) : Json(text);
        } else if (type == "number") {
            out[name] = asNumber(text);
        } else {
            out[name] = text;
        }
    }
    return out;
}

std::string inputText(const Json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_null()) return "";
    return value.dump();
}

}  // namespace nixjail::runner::engine
