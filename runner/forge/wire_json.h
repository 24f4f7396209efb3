// Protobuf canonical JSON for the runner.v1 messages, as Connect's JSON codec speaks it:
// lowerCamel names, int64 as strings, enums by name, RFC 3339 timestamps, bytes as base64.
#pragma once

#include <nlohmann/json.hpp>

#include "runner/forge/forge_client.h"

namespace nixjail::runner::forge::wire {

std::string formatTimestamp(TimePoint t);           // "2026-11-23T08:10:25.123456789Z"
TimePoint parseTimestamp(const std::string& text);  // throws base::Error
std::string base64Encode(std::string_view data);
std::string base64Decode(std::string_view text);  // accepts standard and URL alphabets
int64_t parseInt64(const nlohmann::json& v);      // string or number

nlohmann::json encodeRegister(const RegisterRequest& r);
nlohmann::json encodeDeclare(const std::string& version, const std::vector<std::string>& labels);
nlohmann::json encodeTaskState(const TaskState& s);
nlohmann::json encodeUpdateTask(const TaskState& s,
                                const std::map<std::string, std::string>& outputs);
nlohmann::json encodeUpdateLog(int64_t task_id, int64_t index, const std::vector<LogRow>& rows,
                               bool no_more);

RunnerInfo decodeRunner(const nlohmann::json& j);
Task decodeTask(const nlohmann::json& j);
FetchResult decodeFetchTask(const nlohmann::json& j);
UpdateTaskReply decodeUpdateTask(const nlohmann::json& j);
TaskState decodeTaskState(const nlohmann::json& j);  // for the fake side and tests

}  // namespace nixjail::runner::forge::wire
