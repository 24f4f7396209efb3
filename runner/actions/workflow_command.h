// Workflow commands on a step's output: `::name key=value,key=value::message`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace nixjail::runner::actions {

struct WorkflowCommand {
    std::string name;                               // lower-cased: error, add-mask, ...
    std::map<std::string, std::string> properties;  // keys lower-cased, values unescaped
    std::string message;                            // unescaped
};

// Parses a line that starts with `::` (leading whitespace allowed); nullopt for ordinary output.
std::optional<WorkflowCommand> parseWorkflowCommand(std::string_view line);

// %25 -> %, %0D -> CR, %0A -> LF; properties also %3A -> ':' and %2C -> ','.
std::string unescapeCommandData(std::string_view s);
std::string unescapeCommandProperty(std::string_view s);

}  // namespace nixjail::runner::actions
