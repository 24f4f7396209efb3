// Starts fake_forge.py and waits for its "LISTENING <port>" line: no sleeps, no polling.
#include "tests/support/fake_forge_server.h"

#include <unistd.h>

#include <csignal>

#include "runner/base/error.h"
#include "runner/forge/curl_easy.h"

#ifndef NIXJAIL_FAKE_FORGE_PY
#error "NIXJAIL_FAKE_FORGE_PY must name tests/support/fake_forge.py"
#endif

namespace nixjail::tests {

namespace {
std::string readLine(int fd) {
    std::string line;
    char c;
    for (;;) {
        ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            throw base::Error("fake forge exited before listening (output so far: '" + line + "')");
        if (c == '\n') return line;
        line += c;
    }
}
}  // namespace

FakeForgeServer::FakeForgeServer(FakeForgeOptions options)
    : options_(std::move(options)), dir_("nixjail-fake-forge-") {
    start();
}

FakeForgeServer::~FakeForgeServer() {
    if (process_.running()) {
        process_.killTree(SIGKILL);
        process_.wait();
    }
}

void FakeForgeServer::stop() {
    process_.killTree(SIGKILL);
    process_.wait();
}

void FakeForgeServer::start() {
    auto out = base::Pipe::create();
    base::SpawnOptions opts;
    opts.argv = {"python3",
                 NIXJAIL_FAKE_FORGE_PY,
                 "--port",
                 std::to_string(port_),
                 "--dialect",
                 options_.dialect,
                 "--registration-token",
                 options_.registration_token};
    if (options_.persist) {
        opts.argv.push_back("--state");
        opts.argv.push_back((dir_.path() / "state.json").string());
    }
    opts.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"};
    opts.stdout_fd = out.write.get();
    process_ = base::ChildProcess::spawn(opts);
    out.write.reset();
    std::string line = readLine(out.read.get());
    if (line.rfind("LISTENING ", 0) != 0) throw base::Error("fake forge said '" + line + "'");
    port_ = std::stoi(line.substr(10));
}

nlohmann::json FakeForgeServer::admin(const std::string& path, const nlohmann::json& request) {
    runner::forge::CurlEasy curl;
    auto reply = curl.post(url() + "/_admin/" + path, {"Content-Type: application/json", "Expect:"},
                           request.dump(), std::chrono::seconds(120), false);
    if (reply.status != 200) {
        throw base::Error("fake forge admin '" + path + "' answered " +
                          std::to_string(reply.status) + ": " + reply.body);
    }
    return nlohmann::json::parse(reply.body);
}

int64_t FakeForgeServer::enqueueJob(const std::string& payload_yaml,
                                    const std::vector<std::string>& runs_on, nlohmann::json extra) {
    extra["payload"] = payload_yaml;
    extra["runs_on"] = runs_on;
    return admin("jobs", extra).at("job_id").get<int64_t>();
}

nlohmann::json FakeForgeServer::waitTask(int64_t task_id, bool final, double timeout_s) {
    return admin("wait", {{"task_id", task_id}, {"final", final}, {"timeout", timeout_s}});
}

nlohmann::json FakeForgeServer::waitJob(int64_t job_id, bool final, bool sealed, double timeout_s) {
    return admin(
        "wait", {{"job_id", job_id}, {"final", final}, {"sealed", sealed}, {"timeout", timeout_s}});
}

}  // namespace nixjail::tests
