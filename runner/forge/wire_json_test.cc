// The JSON mapping rules of spec/forge-protocol.md §2.1 on concrete messages.
#include "runner/forge/wire_json.h"

#include <gtest/gtest.h>

namespace nixjail::runner::forge::wire {
namespace {

TEST(WireJson, TimestampsAreRfc3339Utc) {
    TimePoint t = parseTimestamp("2026-11-23T08:10:25Z");
    EXPECT_EQ(formatTimestamp(t), "2026-11-23T08:10:25Z");
    TimePoint frac = parseTimestamp("2026-11-23T08:10:25.5Z");
    EXPECT_EQ(formatTimestamp(frac), "2026-11-23T08:10:25.500000000Z");
    EXPECT_EQ(parseTimestamp("2026-11-23T10:10:25+02:00"), t);
    EXPECT_THROW(parseTimestamp("yesterday"), base::Error);
    EXPECT_THROW(parseTimestamp("2026-11-23T08:10:25"), base::Error);
}

TEST(WireJson, Base64RoundTripsAndAcceptsUrlAlphabet) {
    for (const std::string& s : std::vector<std::string>{
             "", "a", "ab", "abc", "name: ci\njobs:\n  b: {}\n", std::string("\xff\xfe\x00", 3)}) {
        EXPECT_EQ(base64Decode(base64Encode(s)), s);
    }
    EXPECT_EQ(base64Encode("name: ci"), "bmFtZTogY2k=");
    EXPECT_EQ(base64Decode("_-8"), base64Decode("/+8"));
    EXPECT_THROW(base64Decode("a*b"), base::Error);
}

TEST(WireJson, Int64AcceptsStringOrNumber) {
    EXPECT_EQ(parseInt64(nlohmann::json("42")), 42);
    EXPECT_EQ(parseInt64(nlohmann::json(42)), 42);
    EXPECT_EQ(parseInt64(nlohmann::json("9007199254740993")), 9007199254740993LL);
    EXPECT_THROW(parseInt64(nlohmann::json("4x")), base::Error);
}

TEST(WireJson, TaskStateUsesCamelNamesStringInt64AndEnumNames) {
    TaskState s;
    s.id = 42;
    s.result = Result::Success;
    s.stopped_at = parseTimestamp("2026-01-02T03:04:05Z");
    s.steps.push_back(
        {0, Result::Failure, parseTimestamp("2026-01-02T03:04:00Z"), std::nullopt, 3, 7});
    auto j = encodeUpdateTask(s, {{"version", "1.2"}});
    EXPECT_EQ(j["state"]["id"], "42");
    EXPECT_EQ(j["state"]["result"], "RESULT_SUCCESS");
    EXPECT_EQ(j["state"]["stoppedAt"], "2026-01-02T03:04:05Z");
    EXPECT_FALSE(j["state"].contains("startedAt"));
    EXPECT_EQ(j["state"]["steps"][0]["logIndex"], "3");
    EXPECT_EQ(j["state"]["steps"][0]["logLength"], "7");
    EXPECT_EQ(j["state"]["steps"][0]["result"], "RESULT_FAILURE");
    EXPECT_EQ(j["outputs"]["version"], "1.2");
    auto back = decodeTaskState(j["state"]);
    EXPECT_EQ(back.id, 42);
    EXPECT_EQ(back.steps.at(0).log_length, 7);
    EXPECT_EQ(back.steps.at(0).started_at, s.steps[0].started_at);
}

TEST(WireJson, UpdateLogCarriesIndexRowsAndNoMore) {
    auto j = encodeUpdateLog(7, 10, {{parseTimestamp("2026-01-02T03:04:05Z"), "hello"}}, true);
    EXPECT_EQ(j["taskId"], "7");
    EXPECT_EQ(j["index"], "10");
    EXPECT_EQ(j["rows"][0]["content"], "hello");
    EXPECT_EQ(j["noMore"], true);
    EXPECT_FALSE(encodeUpdateLog(7, 0, {}, false).contains("noMore"));
}

TEST(WireJson, DecodesTheSpecsFetchTaskExample) {
    auto j = nlohmann::json::parse(R"({"task":{"id":"42",
        "workflowPayload":"bmFtZTogY2k=",
        "context":{"repository":"acme/app","run_id":"7"},
        "secrets":{"GITHUB_TOKEN":"t"},
        "needs":{"build":{"outputs":{"version":"1.2.3"},"result":"RESULT_SUCCESS"},
                 "lint":{"result":2}},
        "vars":{"REGISTRY":"r"}},"tasksVersion":"12"})");
    auto f = decodeFetchTask(j);
    EXPECT_EQ(f.tasks_version, 12);
    ASSERT_TRUE(f.task);
    EXPECT_EQ(f.task->id, 42);
    EXPECT_EQ(f.task->workflow_payload, "name: ci");
    EXPECT_EQ(f.task->context["repository"], "acme/app");
    EXPECT_EQ(f.task->secrets.at("GITHUB_TOKEN"), "t");
    EXPECT_EQ(f.task->needs.at("build").outputs.at("version"), "1.2.3");
    EXPECT_EQ(f.task->needs.at("build").result, Result::Success);
    EXPECT_EQ(f.task->needs.at("lint").result, Result::Failure);
    EXPECT_EQ(f.task->vars.at("REGISTRY"), "r");

    auto empty = decodeFetchTask(nlohmann::json::object());
    EXPECT_FALSE(empty.task);
    EXPECT_EQ(empty.tasks_version, 0);
    EXPECT_EQ(decodeFetchTask(nlohmann::json::parse(R"({"tasks_version":3})")).tasks_version, 3);
}

TEST(WireJson, UpdateTaskReplyGivesTheForgesResult) {
    auto r = decodeUpdateTask(nlohmann::json::parse(
        R"({"state":{"id":"1","result":"RESULT_CANCELLED"},"sentOutputs":["a","b"]})"));
    EXPECT_EQ(r.result, Result::Cancelled);
    EXPECT_EQ(r.sent_outputs, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(decodeUpdateTask(nlohmann::json::parse(R"({"state":{"id":"1"}})")).result,
              Result::Unspecified);
    EXPECT_THROW(parseResult(nlohmann::json("RESULT_BOGUS")), base::Error);
}

}  // namespace
}  // namespace nixjail::runner::forge::wire
