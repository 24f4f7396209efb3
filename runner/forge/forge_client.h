// ForgeClient: the runner's side of the Gitea/Forgejo Actions protocol (see
// spec/forge-protocol.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runner/base/error.h"

namespace nixjail::runner::forge {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// runner.v1.Result; the numbers are the wire numbers.
enum class Result { Unspecified = 0, Success = 1, Failure = 2, Cancelled = 3, Skipped = 4 };
const char* resultName(Result r);             // "RESULT_SUCCESS", ...
Result parseResult(const nlohmann::json& v);  // name or number

// A failed RPC. code is the Connect code name ("unavailable", "unauthenticated", ...),
// http_status 0 for a transport failure.
class ForgeError : public base::Error {
  public:
    ForgeError(const std::string& what, std::string code, int http_status)
        : base::Error(what), code_(std::move(code)), http_status_(http_status) {}
    const std::string& code() const { return code_; }
    int httpStatus() const { return http_status_; }
    // Worth retrying with backoff: network failures, timeouts, 5xx, unavailable, 429.
    bool retryable() const;

  private:
    std::string code_;
    int http_status_;
};

// The forge no longer knows this runner (deleted, or wrong token): re-register.
class UnauthenticatedError : public ForgeError {
  public:
    using ForgeError::ForgeError;
};

struct RunnerInfo {
    int64_t id = 0;
    std::string uuid;
    std::string token;  // only from register
    std::string name;
    std::string version;
    std::vector<std::string> labels;
    bool ephemeral = false;
};

struct RegisterRequest {
    std::string name;
    std::string registration_token;
    std::string version;
    std::vector<std::string> labels;  // names only
    bool ephemeral = false;
};

struct TaskNeed {
    std::map<std::string, std::string> outputs;
    Result result = Result::Unspecified;
};

struct Task {
    int64_t id = 0;
    std::string workflow_payload;  // the single-job YAML (decoded from base64)
    nlohmann::json context = nlohmann::json::object();
    std::map<std::string, std::string> secrets;
    std::map<std::string, std::string> vars;
    std::map<std::string, TaskNeed> needs;
};

struct FetchResult {
    std::optional<Task> task;
    int64_t tasks_version = 0;
};

struct StepState {
    int64_t id = 0;  // index in the job's steps list
    Result result = Result::Unspecified;
    std::optional<TimePoint> started_at;
    std::optional<TimePoint> stopped_at;
    int64_t log_index = 0;
    int64_t log_length = 0;
};

struct TaskState {
    int64_t id = 0;
    Result result = Result::Unspecified;
    std::optional<TimePoint> started_at;
    std::optional<TimePoint> stopped_at;  // required when result is set
    std::vector<StepState> steps;         // all steps, every time
};

struct UpdateTaskReply {
    Result result = Result::Unspecified;  // the forge's view: Cancelled means stop the job
    std::vector<std::string> sent_outputs;
};

struct LogRow {
    TimePoint time;
    std::string content;
};

class ForgeClient {
  public:
    virtual ~ForgeClient() = default;
    virtual RunnerInfo registerRunner(const RegisterRequest& request) = 0;
    virtual RunnerInfo declare(const std::string& version,
                               const std::vector<std::string>& labels) = 0;
    virtual FetchResult fetchTask(int64_t tasks_version) = 0;
    virtual UpdateTaskReply updateTask(const TaskState& state,
                                       const std::map<std::string, std::string>& outputs) = 0;
    // Returns ack_index: how many rows of the task's log the forge now holds.
    virtual int64_t updateLog(int64_t task_id, int64_t index, const std::vector<LogRow>& rows,
                              bool no_more) = 0;
    virtual std::string ping(const std::string& data) = 0;
};

}  // namespace nixjail::runner::forge
