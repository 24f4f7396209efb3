// FakeForgeClient: an in-memory forge for unit tests of the daemon; scripted tasks, errors and
// cancellations, and a record of every state and log row received. Thread-safe.
#pragma once

#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>

#include "runner/forge/forge_client.h"

namespace nixjail::runner::forge {

class FakeForgeClient : public ForgeClient {
  public:
    struct TaskRecord {
        std::vector<TaskState> states;               // every UpdateTask received, in order
        std::map<std::string, std::string> outputs;  // first value wins, as on the forges
        std::vector<LogRow> log;
        bool sealed = false;
        Result forced_result = Result::Unspecified;  // what UpdateTask replies (cancel())
    };

    void enqueueTask(Task task) {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(task));
        ++tasks_version_;
    }
    // The next UpdateTask replies say the task was cancelled.
    void cancel(int64_t task_id) {
        std::lock_guard lock(mutex_);
        tasks_[task_id].forced_result = Result::Cancelled;
    }
    // The next call of any RPC throws this (a ForgeError or UnauthenticatedError) instead of
    // answering; several queue up in order.
    template <class E>
    void failNextCall(E error) {
        std::lock_guard lock(mutex_);
        failures_.push_back(std::make_exception_ptr(std::move(error)));
    }
    std::optional<TaskRecord> task(int64_t id) const {
        std::lock_guard lock(mutex_);
        auto it = tasks_.find(id);
        if (it == tasks_.end()) return std::nullopt;
        return it->second;
    }
    int calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    std::vector<std::string> declaredLabels() const {
        std::lock_guard lock(mutex_);
        return declared_labels_;
    }

    RunnerInfo registerRunner(const RegisterRequest& r) override {
        std::lock_guard lock(mutex_);
        enter();
        return {1,
                "00000000-0000-4000-8000-000000000001",
                "fake-runner-token",
                r.name,
                r.version,
                r.labels,
                r.ephemeral};
    }
    RunnerInfo declare(const std::string& version,
                       const std::vector<std::string>& labels) override {
        std::lock_guard lock(mutex_);
        enter();
        declared_labels_ = labels;
        return {1, "00000000-0000-4000-8000-000000000001", "", "fake", version, labels, false};
    }
    FetchResult fetchTask(int64_t tasks_version) override {
        std::lock_guard lock(mutex_);
        enter();
        FetchResult r{std::nullopt, tasks_version_};
        if (tasks_version == tasks_version_ || queue_.empty()) return r;
        r.task = std::move(queue_.front());
        queue_.pop_front();
        tasks_[r.task->id];
        return r;
    }
    UpdateTaskReply updateTask(const TaskState& state,
                               const std::map<std::string, std::string>& outputs) override {
        std::lock_guard lock(mutex_);
        enter();
        auto& rec = known(state.id);
        rec.states.push_back(state);
        for (const auto& [k, v] : outputs) rec.outputs.emplace(k, v);
        UpdateTaskReply reply;
        reply.result = rec.forced_result;
        for (const auto& [k, v] : rec.outputs) reply.sent_outputs.push_back(k);
        return reply;
    }
    int64_t updateLog(int64_t task_id, int64_t index, const std::vector<LogRow>& rows,
                      bool no_more) override {
        std::lock_guard lock(mutex_);
        enter();
        auto& rec = known(task_id);
        auto ack = static_cast<int64_t>(rec.log.size());
        if (rec.sealed && !rows.empty()) {
            throw ForgeError("UpdateLog: log file has been archived", "already_exists", 409);
        }
        if (!rows.empty() && index <= ack && index + static_cast<int64_t>(rows.size()) > ack) {
            rec.log.insert(rec.log.end(), rows.begin() + (ack - index), rows.end());
        }
        if (no_more && !rows.empty()) rec.sealed = true;
        return static_cast<int64_t>(rec.log.size());
    }
    std::string ping(const std::string& data) override {
        std::lock_guard lock(mutex_);
        enter();
        return "Hello, " + data + "!";
    }

  private:
    void enter() {
        ++calls_;
        if (!failures_.empty()) {
            auto e = failures_.front();
            failures_.pop_front();
            std::rethrow_exception(e);
        }
    }
    TaskRecord& known(int64_t id) {
        auto it = tasks_.find(id);
        if (it == tasks_.end()) {
            throw ForgeError("update task: invalid runner for task", "internal", 500);
        }
        return it->second;
    }

    mutable std::mutex mutex_;
    std::deque<Task> queue_;
    std::map<int64_t, TaskRecord> tasks_;
    std::deque<std::exception_ptr> failures_;
    std::vector<std::string> declared_labels_;
    int64_t tasks_version_ = 1;
    int calls_ = 0;
};

}  // namespace nixjail::runner::forge
