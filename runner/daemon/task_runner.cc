// One task from payload to reported result: parse, plan the job, run it with a reporter and a
// recorder attached, poll the forge for cancellation, report the end (retrying while it is away).
#include "runner/daemon/task_runner.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <thread>

#include "runner/base/error.h"
#include "runner/daemon/cache_grant.h"
#include "runner/daemon/job_recorder.h"
#include "runner/daemon/replay_record.h"
#include "runner/daemon/root_witness.h"
#include "runner/daemon/task_plan.h"
#include "runner/daemon/task_reporter.h"

namespace nixjail::runner::daemon {

namespace {

// Forwards every event to the forge reporter and the database recorder. Both count the top-level
// steps they are told about as the job's steps, so a pre step run at the job's start is not one:
// its lines belong to the job's set-up, before its first step.
class TeeObserver : public actions::JobObserver {
  public:
    TeeObserver(actions::JobObserver& a, actions::JobObserver& b) : a_(a), b_(b) {}
    void stepStarted(const actions::StepRecord& s) override {
        if (s.pre) return;
        a_.stepStarted(s);
        b_.stepStarted(s);
    }
    void line(const actions::LogLine& l) override {
        a_.line(l);
        b_.line(l);
    }
    void stepFinished(const actions::StepRecord& s) override {
        if (s.pre) return;
        a_.stepFinished(s);
        b_.stepFinished(s);
    }
    void phaseFinished(const actions::PhaseRecord& p) override {
        a_.phaseFinished(p);
        b_.phaseFinished(p);
    }

  private:
    actions::JobObserver& a_;
    actions::JobObserver& b_;
};

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

// The engine stops a job at runner.job_timeout itself (RunOptions::runner_job_timeout), its step
// as timed out; the Flusher stops it this long after that only if the engine has not, e.g. when
// preparing the job's root took the time.
constexpr std::chrono::seconds kJobTimeoutBackstop{30};

// How long a job runs before its first interim report (at most the flush interval).
constexpr std::chrono::milliseconds kFirstFlush{250};

// Uploads logs and state every `interval` while the job runs (the first time after kFirstFlush),
// and turns the forge's cancellation or, as a backstop, the runner's job timeout into a stop of
// the job.
class Flusher {
  public:
    Flusher(TaskReporter& reporter, std::stop_source& job_stop, const JobResources& res,
            std::shared_ptr<spdlog::logger> log)
        : reporter_(reporter),
          job_stop_(job_stop),
          metrics_(*res.metrics),
          log_(std::move(log)),
          interval_(res.flush_interval),
          deadline_(std::chrono::steady_clock::now() + res.config->runner.job_timeout +
                    kJobTimeoutBackstop),
          thread_([this](std::stop_token st) { loop(st); }) {}

    bool cancelledByForge() const { return by_forge_; }
    bool timedOut() const { return timed_out_; }
    void stop() {
        thread_.request_stop();
        if (thread_.joinable()) thread_.join();
    }
    ~Flusher() { stop(); }

  private:
    void loop(std::stop_token st) {
        int failures = 0;
        // The forge marked the task running when it handed it out and the final report follows
        // the job's end, so a job that ends within this first wait costs the forge no interim
        // UpdateLog/UpdateTask; a longer one shows its first lines this soon.
        if (pause(st, std::min(interval_, kFirstFlush))) return;
        while (!st.stop_requested()) {
            try {
                if (reporter_.flush() == forge::Result::Cancelled && !job_stop_.stop_requested()) {
                    log_->info("the forge cancelled task {}, stopping the job", reporter_.taskId());
                    by_forge_ = true;
                    job_stop_.request_stop();
                }
                failures = 0;
            } catch (const std::exception& e) {
                metrics_.reportError();
                if (failures++ == 0)
                    log_->warn("updating the forge failed, retrying: {}", e.what());
            }
            if (std::chrono::steady_clock::now() >= deadline_ && !job_stop_.stop_requested()) {
                log_->warn("task {} exceeded runner.job_timeout, stopping it", reporter_.taskId());
                timed_out_ = true;
                job_stop_.request_stop();
            }
            if (pause(st, interval_)) return;
        }
    }

    // Waits `d`; true when stopped meanwhile.
    static bool pause(std::stop_token st, std::chrono::milliseconds d) {
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        cv.wait_for(lock, st, d, [] { return false; });
        return st.stop_requested();
    }

    TaskReporter& reporter_;
    std::stop_source& job_stop_;
    Metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point deadline_;
    std::atomic<bool> by_forge_{false}, timed_out_{false};
    std::jthread thread_;  // last: starts once the members it uses exist
};

std::string statusName(forge::Result r) {
    switch (r) {
        case forge::Result::Success:
            return "success";
        case forge::Result::Cancelled:
            return "cancelled";
        case forge::Result::Skipped:
            return "skipped";
        default:
            return "failure";
    }
}

// GitHub's rule for step debug logging: ACTIONS_STEP_DEBUG is true in the secrets or the vars.
bool stepDebug(const forge::Task& task) {
    auto isTrue = [](const std::map<std::string, std::string>& m) {
        auto it = m.find("ACTIONS_STEP_DEBUG");
        return it != m.end() && it->second == "true";
    };
    return isTrue(task.secrets) || isTrue(task.vars);
}

std::string failedStepReason(const engine::JobOutcome& outcome) {
    for (const auto& s : outcome.steps) {
        if (s.conclusion != actions::Result::kFailure) continue;
        std::string reason = "step '" + s.name + "' failed";
        if (!s.error.empty()) return reason + ": " + s.error;
        if (s.exit_code >= 0) return reason + " with exit code " + std::to_string(s.exit_code);
        return reason;
    }
    return "";
}

}  // namespace

TaskResult runTask(const forge::Task& task, const JobResources& res, std::stop_token cancel,
                   std::stop_token give_up) {
    auto log = res.log->clone("task " + std::to_string(task.id));
    actions::SecretMasker masker;
    for (const auto& [k, v] : task.secrets) masker.add(v);
    masker.add(contextString(task.context, "token"));
    masker.add(contextString(task.context, "gitea_runtime_token"));

    CacheGrant cache_grant(res.actions_cache, task);
    RootWitness root_witness;  // what the job's root is made from, for its replay record
    PreparedJob p;             // its root provider refers to the witness
    std::string prepare_error;
    try {
        prepareTask(p, task, res);
        if (p.options.root_provider)
            p.options.root_provider = root_witness.wrap(std::move(p.options.root_provider));
    } catch (const std::exception& e) {
        prepare_error = masker.mask(e.what());
    }
    const std::string job_id = p.job ? p.job->id : "";
    log->info("task received: repository '{}', workflow '{}', job '{}' task={}",
              contextString(task.context, "repository"), contextString(task.context, "workflow"),
              job_id, task.id);

    TaskReporter reporter(*res.client, task.id, p.job ? p.job->steps.size() : 0, log,
                          stepDebug(task));
    JobRecorder recorder(*res.store, *res.metrics, log);
    store::JobStart start;
    start.forge_task_id = task.id;
    start.repo = contextString(task.context, "repository");
    start.workflow = contextString(task.context, "workflow");
    start.job = job_id.empty() ? "?" : job_id;
    start.matrix = p.instance.matrix.empty() ? "" : p.instance.matrix.dump();
    start.labels = joined(p.labels);
    start.started_at_ms = nowMs();
    recorder.start(start);
    ReplayRecord replay = replayRecordOf(task, res.forge_address);
    replay.job_id = job_id;
    replay.matrix = p.instance.matrix;
    recorder.replay(replayJson(replay, masker));

    forge::Result result = forge::Result::Failure;
    std::string reason;
    std::map<std::string, std::string> outputs;
    if (!prepare_error.empty()) {
        reporter.line({actions::LineKind::kError, prepare_error});
        reason = prepare_error;
        log->warn("task {} failed before it ran: {}", task.id, prepare_error);
    } else {
        reporter.runnerLine("nixjail-runner: running job '" + p.instance.display_name + "' (task " +
                            std::to_string(task.id) + ") with the " + res.job_defaults.executor->name() +
                            " executor");
        std::stop_source job_stop;
        std::stop_callback on_shutdown(cancel, [&] { job_stop.request_stop(); });
        TeeObserver observer(reporter, recorder);
        Flusher flusher(reporter, job_stop, res, log);
        try {
            auto outcome =
                engine::runJob(p.instance, p.options, observer, masker, job_stop.get_token());
            result = toForgeResult(outcome.result);
            outputs = outcome.outputs;
            for (const auto& record : outcome.network_audit) recorder.networkDecision(record);
            std::vector<store::JailCheckRecord> checks;
            for (const auto& c : outcome.jail_checks) checks.push_back({c.name, c.passed, c.detail});
            recorder.jailChecks(checks);
            reason = outcome.error.empty() ? failedStepReason(outcome) : outcome.error;
        } catch (const std::exception& e) {
            reason = masker.mask(std::string("internal error: ") + e.what());
            reporter.line({actions::LineKind::kError, reason});
            result = forge::Result::Failure;
        }
        flusher.stop();
        if (flusher.timedOut()) {
            result = forge::Result::Failure;
            reason = "the job exceeded runner.job_timeout and was stopped";
            reporter.line({actions::LineKind::kError, reason});
        } else if (result == forge::Result::Cancelled) {
            reason = flusher.cancelledByForge() ? "cancelled on the forge"
                                                : "cancelled: the runner is shutting down";
        }
    }
    const std::string status = statusName(result);
    if ((replay.root = root_witness.seen())) recorder.replay(replayJson(replay, masker));
    if (auto usage = cache_grant.usage()) recorder.actionsCache(*usage);
    recorder.finish(status, result == forge::Result::Success ? "" : reason);
    log->info("task {} finished: {}{}", task.id, status, reason.empty() ? "" : " (" + reason + ")");

    TaskResult out{result, false};
    try {
        reporter.finish(result, outputs, give_up, [&] { res.metrics->reportError(); });
        out.reported = true;
    } catch (const std::exception& e) {
        log->error("the forge did not take the result of task {} ({}); it is recorded locally: {}",
                   task.id, status, e.what());
    }
    return out;
}

}  // namespace nixjail::runner::daemon
