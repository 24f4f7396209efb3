// Line splitting, command handling and masking of step output.
#include "runner/actions/output_processor.h"

#include "runner/base/ascii.h"
#include "runner/base/error.h"
#include "runner/actions/workflow_command.h"

namespace nixjail::runner::actions {

namespace {
// "title (file:line:col): message" as annotations read in a terminal.
std::string annotationText(const WorkflowCommand& cmd) {
    std::string where;
    auto prop = [&](const char* k) -> std::string {
        auto it = cmd.properties.find(k);
        return it == cmd.properties.end() ? "" : it->second;
    };
    if (!prop("file").empty()) {
        where = prop("file");
        if (!prop("line").empty()) where += ":" + prop("line");
        if (!prop("col").empty()) where += ":" + prop("col");
    }
    std::string out = prop("title");
    if (!where.empty()) out += (out.empty() ? "" : " ") + std::string("(") + where + ")";
    if (!out.empty()) out += ": ";
    return out + cmd.message;
}
}  // namespace

// A minified bundle's 300 KB line (node prints the source line of a fatal error, then a caret
// line as long) would bury the error under it in the log. Cut after masking, so that a secret
// across the cut is masked as a whole, and never inside a UTF-8 sequence.
std::string capLine(std::string text) {
    if (text.size() <= kMaxLogLineBytes) return text;
    std::size_t cut = kMaxLogLineBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    const std::size_t dropped = text.size() - cut;
    text.resize(cut);
    return text + "… [line cut: " + std::to_string(dropped) + " more bytes not shown]";
}

void OutputProcessor::emit(LineKind kind, const std::string& text) {
    observer_.line({kind, capLine(masker_.mask(text))});
}

void OutputProcessor::feed(std::string_view chunk) {
    pending_.append(chunk);
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string line = pending_.substr(start, nl - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        handleLine(std::move(line));
    }
    pending_.erase(0, start);
    if (pending_.size() > kMaxPendingLineBytes) {
        size_t cut = masker_.safeCut(pending_);
        // Only a stream that is all secret can leave nothing to cut before; it is masked whole.
        if (cut == 0) cut = pending_.size();
        emit(LineKind::kOutput, pending_.substr(0, cut));
        pending_.erase(0, cut);
    }
}

void OutputProcessor::finish() {
    if (!pending_.empty()) {
        std::string line = std::move(pending_);
        pending_.clear();
        handleLine(std::move(line));
    }
}

void OutputProcessor::handleLine(std::string line) {
    auto cmd = parseWorkflowCommand(line);
    if (!stop_token_.empty()) {
        if (cmd && cmd->name == base::asciiLower(stop_token_)) {
            stop_token_.clear();
            return;
        }
        emit(LineKind::kOutput, line);
        return;
    }
    if (!cmd) {
        emit(LineKind::kOutput, line);
        return;
    }
    const std::string& n = cmd->name;
    if (n == "add-mask") {
        masker_.add(cmd->message);
    } else if (n == "group") {
        emit(LineKind::kGroupStart, cmd->message);
    } else if (n == "endgroup") {
        emit(LineKind::kGroupEnd, "");
    } else if (n == "error") {
        emit(LineKind::kError, annotationText(*cmd));
    } else if (n == "warning") {
        emit(LineKind::kWarning, annotationText(*cmd));
    } else if (n == "notice") {
        emit(LineKind::kNotice, annotationText(*cmd));
    } else if (n == "debug") {
        emit(LineKind::kDebug, cmd->message);
    } else if (n == "stop-commands") {
        if (cmd->message.empty()) {
            emit(LineKind::kWarning, "::stop-commands:: needs a token; commands stay enabled");
        } else {
            stop_token_ = cmd->message;
        }
    } else if (n == "set-output") {
        emit(LineKind::kWarning, "The `set-output` command is deprecated; write to $GITHUB_OUTPUT instead");
        outputs_.emplace_back(cmd->properties["name"], cmd->message);
    } else if (n == "save-state") {
        emit(LineKind::kWarning, "The `save-state` command is deprecated; write to $GITHUB_STATE instead");
        state_.emplace_back(cmd->properties["name"], cmd->message);
    } else if (n == "set-env" || n == "add-path") {
        try {
            unsecureCommand(*cmd);
        } catch (const base::Error& e) {
            // As the runner: the step fails after its process ends, which keeps running.
            emit(LineKind::kError, "Unable to process command '" + line + "' successfully.");
            emit(LineKind::kError, e.what());
            if (command_error_.empty()) command_error_ = masker_.mask(e.what());
        }
    } else if (n == "echo") {
        // Command echoing is a display preference; nothing to do.
    } else {
        // Unknown commands are shown as they are, as the Actions runner does.
        emit(LineKind::kOutput, line);
    }
}

void OutputProcessor::unsecureCommand(const WorkflowCommand& cmd) {
    if (!allow_unsecure_) {
        throw base::Error(
            "The `" + cmd.name +
            "` command is disabled. Please upgrade to using Environment Files or opt into unsecure "
            "command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment "
            "variable to `true`. For more information see: "
            "https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-"
            "path-commands/");
    }
    if (cmd.name == "add-path") {
        if (cmd.message.empty()) throw base::Error("Value cannot be null. (Parameter 'path')");
        path_.push_back(cmd.message);
        return;
    }
    auto name = cmd.properties.find("name");
    if (name == cmd.properties.end() || name->second.empty()) {
        throw base::Error("Required field 'name' is missing in ##[set-env] command.");
    }
    if (base::asciiLower(name->second) == "node_options") {
        emit(LineKind::kError, "Can't update NODE_OPTIONS environment variable using ::set-env:: command.");
        return;
    }
    env_.emplace_back(name->second, cmd.message);
}

}  // namespace nixjail::runner::actions
