// JSON encoding of the runner.v1 messages (spec/forge-protocol.md §2.1).
#include "runner/forge/wire_json.h"

#include "runner/base/base64.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <ctime>

namespace nixjail::runner::forge::wire {

const char* resultNameImpl(Result r) {
    switch (r) {
        case Result::Unspecified:
            return "RESULT_UNSPECIFIED";
        case Result::Success:
            return "RESULT_SUCCESS";
        case Result::Failure:
            return "RESULT_FAILURE";
        case Result::Cancelled:
            return "RESULT_CANCELLED";
        case Result::Skipped:
            return "RESULT_SKIPPED";
    }
    return "RESULT_UNSPECIFIED";
}

std::string formatTimestamp(TimePoint t) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    int64_t secs = ns / 1000000000;
    int64_t nanos = ns % 1000000000;
    if (nanos < 0) {
        nanos += 1000000000;
        --secs;
    }
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::array<char, 32> buf{};
    std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (nanos == 0) return std::string(buf.data()) + "Z";
    return fmt::format("{}.{:09d}Z", buf.data(), nanos);
}

TimePoint parseTimestamp(const std::string& text) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) throw base::Error("invalid RFC 3339 timestamp '" + text + "'");
    int64_t nanos = 0;
    if (*end == '.') {
        ++end;
        int digits = 0;
        while (*end >= '0' && *end <= '9') {
            if (digits < 9) nanos = nanos * 10 + (*end - '0');
            ++digits;
            ++end;
        }
        for (int i = digits; i < 9; ++i) nanos *= 10;
    }
    int64_t offset = 0;
    if (*end == '+' || *end == '-') {
        int hh = 0, mm = 0;
        if (std::sscanf(end + 1, "%2d:%2d", &hh, &mm) != 2) {
            throw base::Error("invalid RFC 3339 offset in '" + text + "'");
        }
        offset = (*end == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    } else if (*end != 'Z' && *end != 'z') {
        throw base::Error("invalid RFC 3339 timestamp '" + text + "' (no time zone)");
    }
    int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset;
    return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(secs) +
                                                                 std::chrono::nanoseconds(nanos)));
}

namespace {
int decodeChar(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}
}  // namespace

std::string base64Encode(std::string_view data) { return base::base64Encode(data); }

std::string base64Decode(std::string_view text) {
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        if (c == '=' || c == '\n' || c == '\r') continue;
        int v = decodeChar(c);
        if (v < 0)
            throw base::Error(fmt::format("invalid base64 character '{}' in workflow payload", c));
        acc = (acc << 6) | uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

int64_t parseInt64(const nlohmann::json& v) {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number()) return static_cast<int64_t>(v.get<double>());
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        int64_t out = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (ec == std::errc() && p == s.data() + s.size()) return out;
    }
    throw base::Error("expected an int64 (string or number), got " + v.dump());
}

namespace {
// Input accepts the lowerCamel JSON name or the proto field name.
const nlohmann::json* field(const nlohmann::json& j, const char* camel,
                            const char* snake = nullptr) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(camel);
    if (it != j.end() && !it->is_null()) return &*it;
    if (snake) {
        it = j.find(snake);
        if (it != j.end() && !it->is_null()) return &*it;
    }
    return nullptr;
}
std::map<std::string, std::string> stringMap(const nlohmann::json* j) {
    std::map<std::string, std::string> out;
    if (j) {
        for (auto& [k, v] : j->items()) out[k] = v.get<std::string>();
    }
    return out;
}
std::vector<std::string> stringList(const nlohmann::json* j) {
    return j ? j->get<std::vector<std::string>>() : std::vector<std::string>{};
}
}  // namespace

nlohmann::json encodeRegister(const RegisterRequest& r) {
    nlohmann::json j = {{"name", r.name},
                        {"token", r.registration_token},
                        {"version", r.version},
                        {"labels", r.labels},
                        {"agentLabels", r.labels}};
    if (r.ephemeral) j["ephemeral"] = true;
    return j;
}

nlohmann::json encodeDeclare(const std::string& version, const std::vector<std::string>& labels) {
    return {{"version", version}, {"labels", labels}};
}

nlohmann::json encodeTaskState(const TaskState& s) {
    nlohmann::json j = {{"id", std::to_string(s.id)}, {"result", resultNameImpl(s.result)}};
    if (s.started_at) j["startedAt"] = formatTimestamp(*s.started_at);
    if (s.stopped_at) j["stoppedAt"] = formatTimestamp(*s.stopped_at);
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& st : s.steps) {
        nlohmann::json sj = {{"id", std::to_string(st.id)},
                             {"result", resultNameImpl(st.result)},
                             {"logIndex", std::to_string(st.log_index)},
                             {"logLength", std::to_string(st.log_length)}};
        if (st.started_at) sj["startedAt"] = formatTimestamp(*st.started_at);
        if (st.stopped_at) sj["stoppedAt"] = formatTimestamp(*st.stopped_at);
        steps.push_back(std::move(sj));
    }
    j["steps"] = std::move(steps);
    return j;
}

nlohmann::json encodeUpdateTask(const TaskState& s,
                                const std::map<std::string, std::string>& outputs) {
    nlohmann::json j = {{"state", encodeTaskState(s)}};
    if (!outputs.empty()) j["outputs"] = outputs;
    return j;
}

nlohmann::json encodeUpdateLog(int64_t task_id, int64_t index, const std::vector<LogRow>& rows,
                               bool no_more) {
    nlohmann::json rj = nlohmann::json::array();
    for (const auto& r : rows)
        rj.push_back({{"time", formatTimestamp(r.time)}, {"content", r.content}});
    nlohmann::json j = {{"taskId", std::to_string(task_id)},
                        {"index", std::to_string(index)},
                        {"rows", std::move(rj)}};
    if (no_more) j["noMore"] = true;
    return j;
}

RunnerInfo decodeRunner(const nlohmann::json& j) {
    RunnerInfo r;
    if (auto* v = field(j, "id")) r.id = parseInt64(*v);
    if (auto* v = field(j, "uuid")) r.uuid = v->get<std::string>();
    if (auto* v = field(j, "token")) r.token = v->get<std::string>();
    if (auto* v = field(j, "name")) r.name = v->get<std::string>();
    if (auto* v = field(j, "version")) r.version = v->get<std::string>();
    r.labels = stringList(field(j, "labels"));
    if (auto* v = field(j, "ephemeral")) r.ephemeral = v->get<bool>();
    return r;
}

Task decodeTask(const nlohmann::json& j) {
    Task t;
    if (auto* v = field(j, "id")) t.id = parseInt64(*v);
    if (auto* v = field(j, "workflowPayload", "workflow_payload")) {
        t.workflow_payload = base64Decode(v->get<std::string>());
    }
    if (auto* v = field(j, "context")) t.context = *v;
    t.secrets = stringMap(field(j, "secrets"));
    t.vars = stringMap(field(j, "vars"));
    if (auto* needs = field(j, "needs")) {
        for (auto& [k, v] : needs->items()) {
            TaskNeed n;
            n.outputs = stringMap(field(v, "outputs"));
            if (auto* r = field(v, "result")) n.result = parseResult(*r);
            t.needs[k] = std::move(n);
        }
    }
    return t;
}

FetchResult decodeFetchTask(const nlohmann::json& j) {
    FetchResult f;
    if (auto* v = field(j, "tasksVersion", "tasks_version")) f.tasks_version = parseInt64(*v);
    if (auto* v = field(j, "task")) f.task = decodeTask(*v);
    return f;
}

TaskState decodeTaskState(const nlohmann::json& j) {
    TaskState s;
    if (auto* v = field(j, "id")) s.id = parseInt64(*v);
    if (auto* v = field(j, "result")) s.result = parseResult(*v);
    if (auto* v = field(j, "startedAt", "started_at"))
        s.started_at = parseTimestamp(v->get<std::string>());
    if (auto* v = field(j, "stoppedAt", "stopped_at"))
        s.stopped_at = parseTimestamp(v->get<std::string>());
    if (auto* steps = field(j, "steps")) {
        for (const auto& sj : *steps) {
            StepState st;
            if (auto* v = field(sj, "id")) st.id = parseInt64(*v);
            if (auto* v = field(sj, "result")) st.result = parseResult(*v);
            if (auto* v = field(sj, "startedAt", "started_at"))
                st.started_at = parseTimestamp(v->get<std::string>());
            if (auto* v = field(sj, "stoppedAt", "stopped_at"))
                st.stopped_at = parseTimestamp(v->get<std::string>());
            if (auto* v = field(sj, "logIndex", "log_index")) st.log_index = parseInt64(*v);
            if (auto* v = field(sj, "logLength", "log_length")) st.log_length = parseInt64(*v);
            s.steps.push_back(st);
        }
    }
    return s;
}

UpdateTaskReply decodeUpdateTask(const nlohmann::json& j) {
    UpdateTaskReply r;
    if (auto* st = field(j, "state")) {
        if (auto* v = field(*st, "result")) r.result = parseResult(*v);
    }
    r.sent_outputs = stringList(field(j, "sentOutputs", "sent_outputs"));
    return r;
}

}  // namespace nixjail::runner::forge::wire

namespace nixjail::runner::forge {

const char* resultName(Result r) { return wire::resultNameImpl(r); }

Result parseResult(const nlohmann::json& v) {
    if (v.is_number_integer()) {
        int n = v.get<int>();
        if (n >= 0 && n <= 4) return static_cast<Result>(n);
    } else if (v.is_string()) {
        for (int n = 0; n <= 4; ++n) {
            if (v.get<std::string>() == wire::resultNameImpl(static_cast<Result>(n))) {
                return static_cast<Result>(n);
            }
        }
    }
    throw base::Error("unknown runner.v1.Result value " + v.dump());
}

bool ForgeError::retryable() const {
    if (http_status_ == 0) return true;  // network failure or timeout: no reply at all
    // The request itself is wrong or not allowed: asking again gives the same answer.
    for (const char* permanent :
         {"invalid_argument", "unauthenticated", "permission_denied", "not_found", "already_exists",
          "failed_precondition", "unimplemented", "out_of_range"}) {
        if (code_ == permanent) return false;
    }
    return http_status_ >= 500 || http_status_ == 429 || http_status_ == 408 ||
           code_ == "unavailable" || code_ == "deadline_exceeded" || code_ == "resource_exhausted";
}

}  // namespace nixjail::runner::forge
