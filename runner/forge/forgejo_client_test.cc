// ForgejoClient against tests/support/fake_forge.py over real HTTP on 127.0.0.1, both dialects.
#include "runner/forge/forgejo_client.h"

#include <gtest/gtest.h>

#include "runner/forge/runner_file.h"
#include "tests/support/fake_forge_server.h"

namespace nixjail::runner::forge {
namespace {

constexpr const char* kRegToken = "0123456789abcdef0123456789abcdef01234567";
constexpr const char* kPayload =
    "name: ci\non: push\njobs:\n  build:\n    runs-on: nix\n    steps:\n      - run: echo hi\n";

class ForgejoClientTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        server_ = std::make_unique<tests::FakeForgeServer>(
            tests::FakeForgeOptions{GetParam(), kRegToken});
    }

    // A registered client, as the daemon has after reading .runner.
    std::unique_ptr<ForgejoClient> registered(std::vector<std::string> labels = {"nix", "linux"}) {
        ForgejoClient anon({server_->url()});
        auto info = anon.registerRunner({"test-runner", kRegToken, "0.1.0", labels});
        return std::make_unique<ForgejoClient>(ForgeEndpoint{
            server_->url(), info.uuid, base::Secret(info.token), std::chrono::seconds(10)});
    }

    std::unique_ptr<tests::FakeForgeServer> server_;
};

TEST_P(ForgejoClientTest, PingAnswers) {
    ForgejoClient client({server_->url()});
    EXPECT_EQ(client.ping("nixjail"), "Hello, nixjail!");
}

TEST_P(ForgejoClientTest, RegisterReturnsCredentialsAndBadTokenIsRejected) {
    ForgejoClient client({server_->url()});
    auto info = client.registerRunner({"r1", kRegToken, "0.1.0", {"nix"}});
    EXPECT_FALSE(info.uuid.empty());
    EXPECT_EQ(info.token.size(), 40u);
    EXPECT_EQ(info.labels, std::vector<std::string>{"nix"});
    try {
        client.registerRunner({"r2", "wrong", "0.1.0", {"nix"}});
        FAIL();
    } catch (const ForgeError& e) {
        EXPECT_NE(std::string(e.what()).find("registration token not found"), std::string::npos)
            << e.what();
        EXPECT_FALSE(e.retryable());
    }
}

TEST_P(ForgejoClientTest, WrongRunnerTokenIsUnauthenticatedWithReRegisterHint) {
    auto good = registered();
    good->declare("0.1.0", {"nix"});
    ForgejoClient bad({server_->url(), "no-such-uuid", base::Secret("x")});
    try {
        bad.fetchTask(0);
        FAIL();
    } catch (const UnauthenticatedError& e) {
        EXPECT_NE(std::string(e.what()).find("register"), std::string::npos) << e.what();
        EXPECT_FALSE(e.retryable());
    }
}

TEST_P(ForgejoClientTest, FetchRunReportAndLog) {
    auto client = registered();
    client->declare("0.1.0", {"nix", "linux"});
    auto none = client->fetchTask(0);
    EXPECT_FALSE(none.task);
    EXPECT_GT(none.tasks_version, 0);
    // Same version again: the forge skips the search.
    EXPECT_FALSE(client->fetchTask(none.tasks_version).task);

    server_->enqueueJob("other", {"windows"});
    server_->enqueueJob(
        kPayload, {"nix"},
        {{"context", {{"repository", "acme/app"}}},
         {"secrets", {{"DEPLOY", "s3cret"}}},
         {"vars", {{"REGISTRY", "r.example"}}},
         {"needs", {{"lint", {{"outputs", {{"ok", "yes"}}}, {"result", "RESULT_SUCCESS"}}}}}});
    auto f = client->fetchTask(none.tasks_version);
    ASSERT_TRUE(f.task) << "the job for 'nix' must be assigned, not the one for 'windows'";
    const Task& t = *f.task;
    EXPECT_EQ(t.workflow_payload, kPayload);
    EXPECT_EQ(t.context.at("repository"), "acme/app");
    EXPECT_EQ(t.secrets.at("DEPLOY"), "s3cret");
    EXPECT_EQ(t.secrets.at("GITHUB_TOKEN"), t.context.at("token"));
    EXPECT_EQ(t.vars.at("REGISTRY"), "r.example");
    EXPECT_EQ(t.needs.at("lint").outputs.at("ok"), "yes");
    EXPECT_EQ(t.needs.at("lint").result, Result::Success);
    EXPECT_FALSE(client->fetchTask(0).task) << "the windows job does not fit";

    auto now = Clock::now();
    EXPECT_EQ(client->updateLog(t.id, 0, {{now, "line 0"}, {now, "line 1"}}, false), 2);
    // Re-sending an overlap is trimmed; a gap stores nothing.
    EXPECT_EQ(client->updateLog(t.id, 1, {{now, "line 1"}, {now, "line 2"}}, false), 3);
    EXPECT_EQ(client->updateLog(t.id, 7, {{now, "far"}}, false), 3);

    TaskState st{
        t.id, Result::Unspecified, now, std::nullopt, {{0, Result::Unspecified, now, {}, 0, 0}}};
    auto reply = client->updateTask(st, {});
    EXPECT_EQ(reply.result, Result::Unspecified);

    st.result = Result::Success;
    st.stopped_at = Clock::now();
    st.steps[0] = {0, Result::Success, now, Clock::now(), 0, 3};
    reply = client->updateTask(st, {{"version", "1.2.3"}});
    EXPECT_EQ(reply.result, Result::Success);
    EXPECT_EQ(reply.sent_outputs, std::vector<std::string>{"version"});
    // First value wins.
    reply = client->updateTask(st, {{"version", "9"}, {"other", "x"}});
    EXPECT_EQ(reply.sent_outputs, (std::vector<std::string>{"other", "version"}));

    EXPECT_EQ(client->updateLog(t.id, 3, {{now, "last"}}, true), 4);
    try {
        client->updateLog(t.id, 4, {{now, "after seal"}}, false);
        FAIL();
    } catch (const ForgeError& e) {
        EXPECT_NE(std::string(e.what()).find("archived"), std::string::npos) << e.what();
    }

    auto task = server_->waitJob(2, true, true);
    EXPECT_EQ(task["id"], t.id);
    EXPECT_EQ(task["result"], "RESULT_SUCCESS");
    EXPECT_EQ(task["log"].size(), 4u);
    EXPECT_EQ(task["log"][2]["content"], "line 2");
    EXPECT_EQ(task["steps"]["0"]["logLength"], 3);
    EXPECT_EQ(task["steps"]["0"]["result"], "RESULT_SUCCESS");
    EXPECT_EQ(task["outputs"]["version"], "1.2.3");
    EXPECT_TRUE(task["log_sealed"].get<bool>());
}

TEST_P(ForgejoClientTest, InvalidUtf8InLogRowsIsReplacedNotFatal) {
    auto client = registered();
    server_->enqueueJob(kPayload, {"nix"});
    auto f = client->fetchTask(0);
    ASSERT_TRUE(f.task);
    EXPECT_EQ(client->updateLog(f.task->id, 0, {{Clock::now(), "bad \xff byte"}}, false), 1);
    auto task = server_->waitTask(f.task->id, false);
    EXPECT_EQ(task["log"][0]["content"], "bad \xef\xbf\xbd byte");
}

TEST_P(ForgejoClientTest, CancellationArrivesInTheUpdateTaskReply) {
    auto client = registered();
    server_->enqueueJob(kPayload, {"nix"});
    auto f = client->fetchTask(0);
    ASSERT_TRUE(f.task);
    TaskState st{f.task->id, Result::Unspecified, Clock::now(), std::nullopt, {}};
    EXPECT_EQ(client->updateTask(st, {}).result, Result::Unspecified);
    server_->admin("cancel", {{"task_id", f.task->id}});
    EXPECT_EQ(client->updateTask(st, {}).result, Result::Cancelled);
    st.result = Result::Success;  // ignored: the task is already final
    st.stopped_at = Clock::now();
    EXPECT_EQ(client->updateTask(st, {}).result, Result::Cancelled);
}

TEST_P(ForgejoClientTest, OutagesAreRetryableAndRestartKeepsState) {
    auto client = registered();
    server_->admin(
        "fault",
        {{"procedure", "runner.v1.RunnerService/FetchTask"}, {"status", 502}, {"html", true}});
    try {
        client->fetchTask(0);
        FAIL();
    } catch (const ForgeError& e) {
        EXPECT_TRUE(e.retryable()) << e.what();
        EXPECT_EQ(e.code(), "unavailable");
    }
    server_->admin("fault", {{"procedure", "*"}, {"status", 503}, {"code", "unavailable"}});
    EXPECT_THROW(client->fetchTask(0), ForgeError);

    server_->stop();
    try {
        client->fetchTask(0);
        FAIL();
    } catch (const ForgeError& e) {
        EXPECT_TRUE(e.retryable());
        EXPECT_EQ(e.httpStatus(), 0);
    }
    server_->start();
    // The runner registered before the restart is still known.
    EXPECT_NO_THROW(client->declare("0.1.0", {"nix"}));
}

TEST_P(ForgejoClientTest, LostFetchResponseIsRecoveredOnlyByForgejosRequestKey) {
    auto client = registered();
    server_->enqueueJob(kPayload, {"nix"});
    server_->admin("fault", {{"procedure", "runner.v1.RunnerService/FetchTask"}, {"drop", true}});
    try {
        client->fetchTask(0);
        FAIL();
    } catch (const ForgeError& e) {
        EXPECT_TRUE(e.retryable()) << e.what();
    }
    EXPECT_EQ(server_->state()["jobs"][0]["status"], "running");
    auto again = client->fetchTask(0);
    if (GetParam() == "forgejo") {
        ASSERT_TRUE(again.task) << "same request key: the assigned task comes again";
        EXPECT_EQ(again.task->id, server_->state()["jobs"][0]["task_id"].get<int64_t>());
        EXPECT_EQ(again.tasks_version, 0);
        // The key was used up: the next fetch is a new request.
        EXPECT_FALSE(client->fetchTask(0).task);
    } else {
        EXPECT_FALSE(again.task) << "Gitea has no request key: the task is a zombie";
    }
}

TEST_P(ForgejoClientTest, OfflineRegisteredRunnerIsAccepted) {
    const std::string secret = "fedcba9876543210fedcba9876543210fedcba98";
    server_->admin("offline-register", {{"secret", secret}, {"name", "offline"}});
    auto file = runnerFileFromSecret(server_->url(), secret, "offline");
    ForgejoClient client({file.address, file.uuid, file.token});
    EXPECT_EQ(client.declare("0.1.0", {"nix"}).name, "offline");
}

TEST_P(ForgejoClientTest, EphemeralRunnerIsRemovedAfterItsTask) {
    ForgejoClient anon({server_->url()});
    auto info = anon.registerRunner({"eph", kRegToken, "0.1.0", {"nix"}, true});
    ForgejoClient client({server_->url(), info.uuid, base::Secret(info.token)});
    server_->enqueueJob(kPayload, {"nix"});
    server_->enqueueJob(kPayload, {"nix"});
    auto f = client.fetchTask(0);
    ASSERT_TRUE(f.task);
    client.updateTask({f.task->id, Result::Success, std::nullopt, Clock::now(), {}}, {});
    if (GetParam() == "gitea") {
        // Gitea answers the next fetch with an error and deletes the runner then.
        try {
            client.fetchTask(0);
            FAIL();
        } catch (const UnauthenticatedError&) {
            FAIL() << "Gitea says 'removed' first";
        } catch (const ForgeError& e) {
            EXPECT_NE(std::string(e.what()).find("runner has been removed"), std::string::npos);
        }
    }
    EXPECT_THROW(client.fetchTask(0), UnauthenticatedError);
}

TEST_P(ForgejoClientTest, SilentTaskIsReapedAsFailed) {
    auto client = registered();
    server_->enqueueJob(kPayload, {"nix"});
    auto f = client->fetchTask(0);
    ASSERT_TRUE(f.task);
    server_->admin("reap-zombies", {{"older_than", 0}});
    EXPECT_EQ(client->updateTask({f.task->id}, {}).result, Result::Failure);
}

TEST_P(ForgejoClientTest, DeletedRunnerMustReRegister) {
    auto client = registered();
    auto info = client->declare("0.1.0", {"nix"});
    server_->admin("delete-runner", {{"uuid", info.uuid}});
    EXPECT_THROW(client->fetchTask(0), UnauthenticatedError);
}

TEST_P(ForgejoClientTest, ForgeWithoutDeclareIsUnimplemented) {
    auto client = registered();
    server_->admin("set", {{"declare", false}});
    try {
        client->declare("0.1.0", {"nix"});
        FAIL();
    } catch (const ForgeError& e) {
        EXPECT_EQ(e.code(), "unimplemented");
        EXPECT_FALSE(e.retryable());
    }
}

TEST_P(ForgejoClientTest, FakeRejectsWhatConnectRejects) {
    CurlEasy curl;
    std::string url = server_->url() + "/api/actions/ping.v1.PingService/Ping";
    EXPECT_EQ(
        curl.post(url, {"Content-Type: text/plain"}, "{}", std::chrono::seconds(10), false).status,
        415);
    auto empty =
        curl.post(url, {"Content-Type: application/json"}, "", std::chrono::seconds(10), false);
    EXPECT_NE(empty.body.find("zero-length payload"), std::string::npos) << empty.body;
    auto charset = curl.post(url, {"Content-Type: application/json; charset=utf-8"},
                             R"({"data":"x"})", std::chrono::seconds(10), false);
    EXPECT_EQ(charset.status, 200);
}

INSTANTIATE_TEST_SUITE_P(Dialects, ForgejoClientTest, ::testing::Values("forgejo", "gitea"));

ForgeError errorFor(const HttpReply& reply) {
    try {
        throwReplyError("P", "u", reply);
    } catch (const ForgeError& e) {
        return e;
    }
}

TEST(ForgeErrorMapping, StatusWithoutConnectBodyFollowsConnectGo) {
    EXPECT_EQ(errorFor({404, "text/plain", "404 page not found"}).code(), "unimplemented");
    EXPECT_EQ(errorFor({502, "text/html", "<html>"}).code(), "unavailable");
    EXPECT_TRUE(errorFor({500, "application/json", R"({"code":"unknown"})"}).retryable());
    EXPECT_FALSE(errorFor({400, "application/json", R"({"code":"invalid_argument"})"}).retryable());
}

TEST(ForgeErrorMapping, GiteasGrpcTextGivesTheRealCode) {
    auto e = errorFor(
        {500, "application/json",
         R"({"code":"unknown","message":"rpc error: code = InvalidArgument desc = bad"})"});
    EXPECT_EQ(e.code(), "invalid_argument");
    EXPECT_FALSE(e.retryable());
    EXPECT_THROW(
        throwReplyError(
            "P", "u",
            {500, "application/json",
             R"({"code":"unknown","message":"rpc error: code = Unauthenticated desc = unregistered runner"})"}),
        UnauthenticatedError);
}

TEST(ForgejoClientAddress, RejectsNonHttpAddress) {
    EXPECT_THROW(ForgejoClient({"forge.example.com"}), base::Error);
}

}  // namespace
}  // namespace nixjail::runner::forge
