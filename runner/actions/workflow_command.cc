// Parsing `::command props::message` lines.
#include "runner/actions/workflow_command.h"

#include "runner/base/ascii.h"

namespace nixjail::runner::actions {

namespace {
std::string unescape(std::string_view s, bool property) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            std::string_view code = s.substr(i + 1, 2);
            char c = 0;
            if (code == "25") c = '%';
            else if (code == "0D" || code == "0d") c = '\r';
            else if (code == "0A" || code == "0a") c = '\n';
            else if (property && (code == "3A" || code == "3a")) c = ':';
            else if (property && (code == "2C" || code == "2c")) c = ',';
            if (c) {
                out += c;
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}
}  // namespace

std::string unescapeCommandData(std::string_view s) { return unescape(s, false); }
std::string unescapeCommandProperty(std::string_view s) { return unescape(s, true); }

std::optional<WorkflowCommand> parseWorkflowCommand(std::string_view line) {
    // The runner trims any leading whitespace (.NET's TrimStart).
    size_t start = line.find_first_not_of(" \t\v\f\r");
    if (start == std::string_view::npos) return std::nullopt;
    line.remove_prefix(start);
    if (line.substr(0, 2) != "::") return std::nullopt;
    line.remove_prefix(2);
    size_t end = line.find("::");
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view head = line.substr(0, end);
    WorkflowCommand cmd;
    cmd.message = unescapeCommandData(line.substr(end + 2));
    size_t space = head.find(' ');
    // Command names and property keys are matched ignoring case, as the runner does.
    cmd.name = base::asciiLower(std::string(head.substr(0, space)));
    if (cmd.name.empty()) return std::nullopt;
    if (space != std::string_view::npos) {
        std::string_view props = head.substr(space + 1);
        while (!props.empty()) {
            size_t comma = props.find(',');
            std::string_view kv = props.substr(0, comma);
            size_t eq = kv.find('=');
            if (eq != std::string_view::npos && eq > 0) {
                cmd.properties[base::asciiLower(std::string(kv.substr(0, eq)))] =
                    unescapeCommandProperty(kv.substr(eq + 1));
            }
            if (comma == std::string_view::npos) break;
            props.remove_prefix(comma + 1);
        }
    }
    return cmd;
}

}  // namespace nixjail::runner::actions
