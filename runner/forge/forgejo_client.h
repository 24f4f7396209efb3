// ForgejoClient: ForgeClient over HTTP with Connect's unary JSON protocol (Gitea and Forgejo).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "runner/base/secret.h"
#include "runner/forge/curl_easy.h"
#include "runner/forge/forge_client.h"

namespace nixjail::runner::forge {

struct ForgeEndpoint {
    std::string address;  // forge base URL, e.g. https://forge.example.com[/sub]
    std::string uuid;     // empty before registration
    base::Secret token;
    std::chrono::milliseconds timeout{60000};
    bool insecure = false;  // skip TLS verification
};

// Thread-safe: concurrent calls each take an idle connection from a small pool (keep-alive).
// FetchTask sends Forgejo's x-runner-request-key and keeps the same key until a fetch gets an
// answer, so a task assigned under a lost response is handed out again (Gitea ignores it).
class ForgejoClient : public ForgeClient {
  public:
    explicit ForgejoClient(ForgeEndpoint endpoint);

    RunnerInfo registerRunner(const RegisterRequest& request) override;
    RunnerInfo declare(const std::string& version, const std::vector<std::string>& labels) override;
    FetchResult fetchTask(int64_t tasks_version) override;
    UpdateTaskReply updateTask(const TaskState& state,
                               const std::map<std::string, std::string>& outputs) override;
    int64_t updateLog(int64_t task_id, int64_t index, const std::vector<LogRow>& rows,
                      bool no_more) override;
    std::string ping(const std::string& data) override;

  private:
    nlohmann::json call(const std::string& procedure, const nlohmann::json& request, bool auth,
                        const std::string& request_key = {});

    ForgeEndpoint endpoint_;
    std::mutex mutex_;  // guards idle_ and fetch_key_ (endpoint_ is fixed at construction)
    std::vector<std::unique_ptr<CurlEasy>> idle_;
    std::string fetch_key_;
};

// Throws the ForgeError (or UnauthenticatedError) a non-200 reply means (exposed for tests).
[[noreturn]] void throwReplyError(const std::string& procedure, const std::string& url,
                                  const HttpReply& reply);

}  // namespace nixjail::runner::forge
