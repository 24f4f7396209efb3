// Mapping the engine's step and log events onto the forge's task state and log.
#include "runner/daemon/task_reporter.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <thread>

#include "runner/forge/backoff.h"

namespace nixjail::runner::daemon {

namespace {

constexpr size_t kBatchRows = 200;

// The forge UIs fold and colour these markers as GitHub's runner writes them.
std::string formatLine(const actions::LogLine& l) {
    switch (l.kind) {
        case actions::LineKind::kGroupStart:
            return "##[group]" + l.text;
        case actions::LineKind::kGroupEnd:
            return "##[endgroup]";
        case actions::LineKind::kError:
            return "##[error]" + l.text;
        case actions::LineKind::kWarning:
            return "##[warning]" + l.text;
        case actions::LineKind::kNotice:
            return "##[notice]" + l.text;
        case actions::LineKind::kDebug:
            return "##[debug]" + l.text;
        case actions::LineKind::kOutput:
        case actions::LineKind::kRunner:
            return l.text;
    }
    return l.text;
}

}  // namespace

forge::Result toForgeResult(actions::Result r) {
    switch (r) {
        case actions::Result::kSuccess:
            return forge::Result::Success;
        case actions::Result::kFailure:
            return forge::Result::Failure;
        case actions::Result::kCancelled:
            return forge::Result::Cancelled;
        case actions::Result::kSkipped:
            return forge::Result::Skipped;
    }
    return forge::Result::Failure;
}

TaskReporter::TaskReporter(forge::ForgeClient& client, int64_t task_id, size_t step_count,
                           std::shared_ptr<spdlog::logger> log, bool step_debug)
    : client_(client), task_id_(task_id), log_(std::move(log)), step_debug_(step_debug) {
    state_.id = task_id;
    state_.started_at = forge::Clock::now();
    for (size_t i = 0; i < step_count; ++i) state_.steps.push_back({.id = static_cast<int64_t>(i)});
}

void TaskReporter::stepStarted(const actions::StepRecord&) {
    std::lock_guard lock(mutex_);
    auto index = nesting_.started();
    if (!index || *index >= static_cast<int64_t>(state_.steps.size())) return;
    auto& s = state_.steps[static_cast<size_t>(*index)];
    s.started_at = forge::Clock::now();
    s.log_index = buffer_.size();
}

void TaskReporter::line(const actions::LogLine& line) {
    if (line.kind == actions::LineKind::kDebug && !step_debug_) return;
    // The forges store a row as one line, a '\n' in it shows literally: a multi-line text (a
    // failure reason with its caret excerpt) becomes one row per line, each with the marker so
    // that all of it is coloured.
    std::vector<std::string> parts;
    for (size_t from = 0;;) {
        const size_t nl = line.text.find('\n', from);
        std::string part = line.text.substr(from, nl == std::string::npos ? nl : nl - from);
        if (!part.empty() && part.back() == '\r') part.pop_back();
        parts.push_back(std::move(part));
        if (nl == std::string::npos || nl + 1 == line.text.size()) break;
        from = nl + 1;
    }
    const auto now = forge::Clock::now();
    std::lock_guard lock(mutex_);
    for (auto& part : parts) {
        // A group's title is its first line; what follows is plain text inside the group.
        const bool marked = &part == &parts.front() || line.kind != actions::LineKind::kGroupStart;
        buffer_.append(
            {now, formatLine({marked ? line.kind : actions::LineKind::kOutput, std::move(part)})});
    }
}

void TaskReporter::runnerLine(const std::string& text) { line({actions::LineKind::kRunner, text}); }

void TaskReporter::stepFinished(const actions::StepRecord& step) {
    std::lock_guard lock(mutex_);
    auto index = nesting_.finished();
    if (!index || *index >= static_cast<int64_t>(state_.steps.size())) return;
    auto& s = state_.steps[static_cast<size_t>(*index)];
    const auto now = forge::Clock::now();
    if (!s.started_at) {
        s.started_at = now;
        s.log_index = buffer_.size();
    }
    s.stopped_at = now;
    s.log_length = buffer_.size() - s.log_index;
    s.result = toForgeResult(step.conclusion);
}

forge::TaskState TaskReporter::snapshot() {
    std::lock_guard lock(mutex_);
    forge::TaskState out = state_;
    // The forges' log view serves a step's rows only below its log_length, so a running step
    // reports the rows the forge already holds (as act_runner does); else it shows empty until
    // the step ends.
    for (auto& s : out.steps) {
        if (s.started_at && !s.stopped_at)
            s.log_length = std::max<int64_t>(0, buffer_.acked() - s.log_index);
    }
    return out;
}

void TaskReporter::uploadPending(bool no_more) {
    for (;;) {
        std::vector<forge::LogRow> rows;
        int64_t from = 0;
        bool last = false;
        {
            std::lock_guard lock(mutex_);
            if (sealed_) return;
            if (no_more && buffer_.allAcked()) buffer_.append({forge::Clock::now(), ""});
            if (buffer_.allAcked()) return;
            rows = buffer_.pending(kBatchRows);
            from = buffer_.acked();
            last = no_more && static_cast<int64_t>(rows.size()) == buffer_.size() - from;
        }
        int64_t ack = 0;
        try {
            ack = client_.updateLog(task_id_, from, rows, last);
        } catch (const forge::ForgeError& e) {
            // A sealing batch whose reply was lost: the forge already holds and archived the log.
            if (!last || e.code() != "already_exists") throw;
            std::lock_guard lock(mutex_);
            sealed_ = true;
            return;
        }
        std::lock_guard lock(mutex_);
        buffer_.acknowledge(ack);
        if (buffer_.acked() == from) {
            throw forge::ForgeError("the forge took none of " + std::to_string(rows.size()) +
                                        " log rows of task " + std::to_string(task_id_) +
                                        " at index " + std::to_string(from),
                                    "data_loss", 200);
        }
        if (last && buffer_.allAcked()) sealed_ = true;
    }
}

forge::Result TaskReporter::flush() {
    std::lock_guard send(send_mutex_);
    uploadPending(false);
    return client_.updateTask(snapshot(), {}).result;
}

void TaskReporter::sendOutputs(std::map<std::string, std::string>& unsent) {
    if (unsent.empty()) return;
    auto reply = client_.updateTask(snapshot(), unsent);
    for (const auto& k : reply.sent_outputs) unsent.erase(k);
}

void TaskReporter::finish(forge::Result result, const std::map<std::string, std::string>& outputs,
                          std::stop_token give_up, const std::function<void()>& retrying) {
    std::lock_guard send(send_mutex_);
    {
        std::lock_guard lock(mutex_);
        const auto now = forge::Clock::now();
        for (auto& s : state_.steps) {
            if (s.result != forge::Result::Unspecified) continue;
            if (s.started_at) {
                s.result = result == forge::Result::Success ? forge::Result::Failure : result;
                s.stopped_at = now;
                s.log_length = buffer_.size() - s.log_index;
            } else {
                s.result = forge::Result::Skipped;
                s.log_index = buffer_.size();
            }
        }
        state_.result = result;
        state_.stopped_at = now;
    }
    std::map<std::string, std::string> unsent = outputs;
    forge::Backoff backoff(std::chrono::milliseconds(500), std::chrono::seconds(30));
    bool log_done = false;
    for (;;) {
        try {
            if (!log_done) {
                try {
                    uploadPending(true);
                } catch (const forge::ForgeError& e) {
                    if (e.retryable()) throw;
                    log_->warn(
                        "task {}: the forge refused the rest of the log, reporting the result "
                        "anyway: {}",
                        task_id_, e.what());
                }
                log_done = true;
            }
            sendOutputs(unsent);
            client_.updateTask(snapshot(), unsent);
            return;
        } catch (const forge::ForgeError& e) {
            if (!e.retryable() || give_up.stop_requested()) throw;
            if (retrying) retrying();
            const auto delay = backoff.next();
            log_->warn("task {}: reporting the result failed, retrying in {} ms: {}", task_id_,
                       delay.count(), e.what());
            std::mutex m;
            std::condition_variable_any cv;
            std::unique_lock lock(m);
            cv.wait_for(lock, give_up, delay, [] { return false; });
            if (give_up.stop_requested()) throw;
        }
    }
}

}  // namespace nixjail::runner::daemon
