// Connect unary over HTTP/1.1: POST <base>/api/actions/<pkg.Service>/<Method>, JSON bodies.
#include "runner/forge/forgejo_client.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <random>

#include "runner/forge/wire_json.h"

namespace nixjail::runner::forge {

namespace {
constexpr const char* kRunnerService = "runner.v1.RunnerService/";

std::string randomUuid() {
    std::random_device rd;
    std::array<uint8_t, 16> b{};
    for (auto& x : b) x = static_cast<uint8_t>(rd());
    b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
    std::string hex;
    for (size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
        hex += fmt::format("{:02x}", b[i]);
    }
    return hex;
}

// connect-go's mapping for an HTTP error without a Connect body (spec §1.4).
std::string codeFromStatus(long status) {
    switch (status) {
        case 400:
            return "internal";
        case 401:
            return "unauthenticated";
        case 403:
            return "permission_denied";
        case 404:
            return "unimplemented";
        case 429:
        case 502:
        case 503:
        case 504:
            return "unavailable";
        default:
            return "unknown";
    }
}
// "rpc error: code = InvalidArgument desc = ..." -> "invalid_argument"; "" if not that shape.
std::string grpcCodeFromMessage(const std::string& message) {
    static const std::string kPrefix = "rpc error: code = ";
    auto pos = message.find(kPrefix);
    if (pos == std::string::npos) return "";
    pos += kPrefix.size();
    auto end = message.find(' ', pos);
    std::string name =
        message.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    std::string out;
    for (char c : name) {
        if (std::isupper(static_cast<unsigned char>(c))) {
            if (!out.empty()) out += '_';
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else {
            out += c;
        }
    }
    if (out == "cancelled") out = "canceled";
    return out;
}
}  // namespace

void throwReplyError(const std::string& procedure, const std::string& url, const HttpReply& reply) {
    std::string code = codeFromStatus(reply.status);
    std::string message;
    if (reply.content_type.rfind("application/json", 0) == 0) {
        auto j = nlohmann::json::parse(reply.body, nullptr, false);
        if (j.is_object() && j.contains("code") && j["code"].is_string()) {
            code = j["code"].get<std::string>();
            if (j.contains("message") && j["message"].is_string())
                message = j["message"].get<std::string>();
        }
    }
    if (message.empty()) {
        message = reply.body.substr(0, 200);
        if (message.empty()) message = "no body";
    }
    // Gitea folds gRPC status errors into 500 "unknown"; recover the real code from the text.
    if (code == "unknown") {
        auto grpc = grpcCodeFromMessage(message);
        if (!grpc.empty()) code = grpc;
    }
    std::string what = fmt::format("{} to '{}' failed: HTTP {} {}: {}", procedure, url,
                                   reply.status, code, message);
    // Forgejo says 401 unauthenticated; Gitea folds the gRPC status into a 500 "unknown".
    if (code == "unauthenticated") {
        throw UnauthenticatedError(
            what +
                "; the forge does not accept this runner's credentials (deleted or re-created?): "
                "run 'nixjail-runner register' again",
            "unauthenticated", static_cast<int>(reply.status));
    }
    throw ForgeError(what, code, static_cast<int>(reply.status));
}

ForgejoClient::ForgejoClient(ForgeEndpoint endpoint) : endpoint_(std::move(endpoint)) {
    while (!endpoint_.address.empty() && endpoint_.address.back() == '/')
        endpoint_.address.pop_back();
    if (endpoint_.address.rfind("http://", 0) != 0 && endpoint_.address.rfind("https://", 0) != 0) {
        throw base::Error("forge address '" + endpoint_.address +
                          "' must start with http:// or https://");
    }
}

nlohmann::json ForgejoClient::call(const std::string& procedure, const nlohmann::json& request,
                                   bool auth, const std::string& request_key) {
    std::unique_ptr<CurlEasy> curl;
    const std::chrono::milliseconds timeout = endpoint_.timeout;
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            curl = std::move(idle_.back());
            idle_.pop_back();
        }
    }
    if (!curl) curl = std::make_unique<CurlEasy>();
    std::string url = endpoint_.address + "/api/actions/" + procedure;
    std::vector<std::string> headers = {"Content-Type: application/json",
                                        "Connect-Protocol-Version: 1",
                                        fmt::format("Connect-Timeout-Ms: {}", timeout.count()),
                                        "User-Agent: nixjail-runner", "Expect:"};
    if (auth) {
        headers.push_back("x-runner-uuid: " + endpoint_.uuid);
        headers.push_back("x-runner-token: " + endpoint_.token.reveal());
    }
    if (!request_key.empty()) headers.push_back("x-runner-request-key: " + request_key);
    // Step output is not always UTF-8; JSON must be, so invalid bytes become U+FFFD instead of
    // failing the whole batch (the reference runners substitute too).
    std::string body = request.is_null()
                           ? "{}"
                           : request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    HttpReply reply = curl->post(url, headers, body, timeout, endpoint_.insecure);
    {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(curl));
    }
    if (reply.status != 200) throwReplyError(procedure, url, reply);
    auto j = nlohmann::json::parse(reply.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        throw ForgeError(fmt::format("{} to '{}': reply is not a JSON object: {}", procedure, url,
                                     reply.body.substr(0, 200)),
                         "internal", static_cast<int>(reply.status));
    }
    return j;
}

RunnerInfo ForgejoClient::registerRunner(const RegisterRequest& request) {
    auto j = call(std::string(kRunnerService) + "Register", wire::encodeRegister(request), false);
    auto runner = wire::decodeRunner(j.value("runner", nlohmann::json::object()));
    if (runner.uuid.empty() || runner.token.empty()) {
        throw ForgeError("Register reply from '" + endpoint_.address + "' has no runner uuid/token",
                         "internal", 200);
    }
    return runner;
}

RunnerInfo ForgejoClient::declare(const std::string& version,
                                  const std::vector<std::string>& labels) {
    auto j =
        call(std::string(kRunnerService) + "Declare", wire::encodeDeclare(version, labels), true);
    return wire::decodeRunner(j.value("runner", nlohmann::json::object()));
}

FetchResult ForgejoClient::fetchTask(int64_t tasks_version) {
    std::string key;
    {
        std::lock_guard lock(mutex_);
        if (fetch_key_.empty()) fetch_key_ = randomUuid();
        key = fetch_key_;
    }
    nlohmann::json req = {{"tasksVersion", std::to_string(tasks_version)}};
    // Any reply, even an error, means the forge saw the request and did not assign under the
    // key without answering; only a transport failure keeps the key for the retry.
    try {
        auto reply =
            wire::decodeFetchTask(call(std::string(kRunnerService) + "FetchTask", req, true, key));
        std::lock_guard lock(mutex_);
        fetch_key_.clear();
        return reply;
    } catch (const ForgeError& e) {
        if (e.httpStatus() != 0 && e.httpStatus() < 500) {
            std::lock_guard lock(mutex_);
            fetch_key_.clear();
        }
        throw;
    }
}

UpdateTaskReply ForgejoClient::updateTask(const TaskState& state,
                                          const std::map<std::string, std::string>& outputs) {
    return wire::decodeUpdateTask(call(std::string(kRunnerService) + "UpdateTask",
                                       wire::encodeUpdateTask(state, outputs), true));
}

int64_t ForgejoClient::updateLog(int64_t task_id, int64_t index, const std::vector<LogRow>& rows,
                                 bool no_more) {
    auto j = call(std::string(kRunnerService) + "UpdateLog",
                  wire::encodeUpdateLog(task_id, index, rows, no_more), true);
    auto it = j.find("ackIndex");
    return it == j.end() ? 0 : wire::parseInt64(*it);
}

std::string ForgejoClient::ping(const std::string& data) {
    auto j = call("ping.v1.PingService/Ping", {{"data", data}}, false);
    return j.value("data", std::string());
}

}  // namespace nixjail::runner::forge
