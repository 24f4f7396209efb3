// Terminal output of a workflow run.
#include "runner/engine/console_reporter.h"

#include <fmt/format.h>

namespace nixjail::runner::engine {

namespace {

const char* kBold = "1";
const char* kDim = "2";
const char* kRed = "31";
const char* kGreen = "32";
const char* kYellow = "33";
const char* kBlue = "34";
const char* kCyan = "36";

const char* resultStyle(Result r) {
    switch (r) {
        case Result::kSuccess: return kGreen;
        case Result::kFailure: return kRed;
        case Result::kCancelled: return kYellow;
        case Result::kSkipped: return kDim;
    }
    return "";
}

class ConsoleJobObserver : public JobObserver {
public:
    ConsoleJobObserver(ConsoleReporter& console, std::string name)
        : console_(console), prefix_("[" + std::move(name) + "] ") {}

    void stepStarted(const StepRecord& step) override {
        depth_ = 0;
        console_.print(prefix_, "⏵ " + step.name, kBold);
    }

    void line(const LogLine& l) override {
        const std::string indent(2 + 2 * static_cast<size_t>(depth_), ' ');
        switch (l.kind) {
            case LineKind::kOutput: console_.print(prefix_, indent + "| " + l.text); break;
            case LineKind::kGroupStart:
                console_.print(prefix_, indent + "▸ " + l.text, kCyan);
                ++depth_;
                break;
            case LineKind::kGroupEnd:
                if (depth_ > 0) --depth_;
                break;
            case LineKind::kError: console_.print(prefix_, indent + "Error: " + l.text, kRed); break;
            case LineKind::kWarning: console_.print(prefix_, indent + "Warning: " + l.text, kYellow); break;
            case LineKind::kNotice: console_.print(prefix_, indent + "Notice: " + l.text, kBlue); break;
            case LineKind::kDebug:
                if (console_.debug()) console_.print(prefix_, indent + "Debug: " + l.text, kDim);
                break;
            case LineKind::kRunner: console_.print(prefix_, indent + l.text, kDim); break;
        }
    }

    void stepFinished(const StepRecord& step) override {
        depth_ = 0;
        if (step.outcome == Result::kSkipped) {
            console_.print(prefix_, "⊘ skipped: " + step.name, kDim);
            return;
        }
        std::string mark = step.conclusion == Result::kSuccess ? "✓ " : step.outcome == Result::kCancelled ? "⊘ " : "✗ ";
        std::string text = mark + step.name + " (" + formatDuration(step.duration) + ")";
        if (step.outcome == Result::kFailure && step.conclusion == Result::kSuccess) {
            text += " failed, continuing (continue-on-error)";
        }
        console_.print(prefix_, text, resultStyle(step.conclusion));
    }

private:
    ConsoleReporter& console_;
    std::string prefix_;
    int depth_ = 0;
};

}  // namespace

std::string formatDuration(std::chrono::milliseconds d) {
    const auto ms = d.count();
    if (ms < 1000) return fmt::format("{}ms", ms);
    if (ms < 60000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000);
    return fmt::format("{}m{:02}s", ms / 60000, (ms / 1000) % 60);
}

void ConsoleReporter::print(const std::string& prefix, const std::string& text, const char* style) {
    std::lock_guard lock(mu_);
    if (colour_) {
        fmt::print(out_, "\033[{}m{}\033[0m", kDim, prefix);
        if (style && *style) {
            fmt::print(out_, "\033[{}m{}\033[0m\n", style, text);
        } else {
            fmt::print(out_, "{}\n", text);
        }
    } else {
        fmt::print(out_, "{}{}\n", prefix, text);
    }
    std::fflush(out_);
}

std::unique_ptr<JobObserver> ConsoleReporter::jobStarted(const JobInstance& instance) {
    print("", "▶ job " + instance.display_name, kBold);
    return std::make_unique<ConsoleJobObserver>(*this, instance.display_name);
}

void ConsoleReporter::jobFinished(const JobInstance& instance, const JobOutcome& outcome) {
    std::string text = "■ job " + instance.display_name + ": " + resultName(outcome.result);
    if (outcome.result != Result::kSkipped) text += " in " + formatDuration(outcome.duration);
    if (!outcome.error.empty() && outcome.result != Result::kSuccess) text += " — " + outcome.error;
    print("", text, resultStyle(outcome.result));
}

std::string resultsTable(const std::vector<JobReport>& jobs, bool colour) {
    size_t width = 3;
    for (const auto& j : jobs) width = std::max(width, j.name.size());
    std::string out = fmt::format("{:<{}}  {:<9}  {}\n", "JOB", width, "RESULT", "DURATION");
    for (const auto& j : jobs) {
        std::string result = fmt::format("{:<9}", resultName(j.outcome.result));
        if (colour) result = fmt::format("\033[{}m{}\033[0m", resultStyle(j.outcome.result), result);
        std::string dur = j.outcome.result == Result::kSkipped ? "-" : formatDuration(j.outcome.duration);
        out += fmt::format("{:<{}}  {}  {}\n", j.name, width, result, dur);
    }
    return out;
}

}  // namespace nixjail::runner::engine
