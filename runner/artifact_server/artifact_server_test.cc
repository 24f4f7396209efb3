// ArtifactServer over real loopback sockets: the @actions/artifact 1.x request sequence (create,
// chunked and gzip uploads, finalize, list, item listing, file download), bearer tokens and runs,
// paths that would escape the run's directory, and malformed or oversized requests.
#include "runner/artifact_server/artifact_server.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "runner/artifact_server/raw_http_test_client.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::artifact_server {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const base::Secret kToken{"token-of-run-42"};
const base::Secret kOtherToken{"token-of-run-43"};

using testing::bodyOf;
using testing::raw;
using testing::statusOf;

std::string headOf(const std::string& r) { return r.substr(0, r.find("\r\n\r\n") + 2); }

class ArtifactServerTest : public ::testing::Test {
  protected:
    ArtifactServerTest() : server_(ArtifactServerConfig{.dir = tmp_.path() / "artifacts"}) {
        server_.authorize(kToken, "42");
        server_.authorize(kOtherToken, "43");
    }

    std::string request(const std::string& method, const std::string& target,
                        const std::string& body = "", const std::string& extra = "",
                        const base::Secret& token = kToken) {
        return raw(
            server_.port(),
            method + " " + target + " HTTP/1.1\r\nHost: artifacts.test:9\r\n" +
                (token.reveal().empty() ? "" : "Authorization: Bearer " + token.reveal() + "\r\n") +
                extra + "Content-Length: " + std::to_string(body.size()) +
                "\r\nConnection: close\r\n\r\n" + body);
    }

    std::string put(const std::string& item, const std::string& body, const std::string& range,
                    const std::string& extra = "") {
        return request("PUT", "/upload/42?itemPath=" + item + "&api-version=6.0-preview", body,
                       "Content-Range: " + range + "\r\n" + extra);
    }

    base::TempDir tmp_{"artifact-server-"};
    ArtifactServer server_;
};

TEST_F(ArtifactServerTest, UploadListAndDownloadLikeActionsArtifactV3) {
    const std::string api = "/_apis/pipelines/workflows/42/artifacts?api-version=6.0-preview";
    auto created = request("POST", api, R"({"Type":"actions_storage","Name":"dist"})");
    ASSERT_EQ(statusOf(created), 200) << created;
    Json c = Json::parse(bodyOf(created));
    EXPECT_EQ(c["fileContainerResourceUrl"], "http://artifacts.test:9/upload/42");
    EXPECT_EQ(c["name"], "dist");
    EXPECT_EQ(c["size"], -1);
    EXPECT_TRUE(c["containerId"].is_number());

    // Two chunks of one file, the second first; a gzip-encoded file in one piece.
    EXPECT_EQ(statusOf(put("dist%2Fsub%2Fbig.txt", "world!", "bytes 6-11/12")), 200);
    EXPECT_EQ(statusOf(put("dist/sub/big.txt", "hello ", "bytes 0-5/12")), 200);
    const std::string gz("\x1f\x8b\x08\x00zipped", 10);
    EXPECT_EQ(statusOf(put("dist/small.txt", gz, "bytes 0-9/10", "Content-Encoding: gzip\r\n")),
              200);

    // Not listed before it is finalized.
    EXPECT_EQ(Json::parse(bodyOf(request("GET", api)))["count"], 0);
    auto fin = request("PATCH",
                       api.substr(0, api.find('?')) + "?artifactName=dist&api-version=6.0-preview",
                       R"({"Size":22})");
    ASSERT_EQ(statusOf(fin), 200) << fin;

    Json list = Json::parse(bodyOf(request("GET", api)));
    ASSERT_EQ(list["count"], 1);
    EXPECT_EQ(list["value"][0]["name"], "dist");
    EXPECT_EQ(list["value"][0]["fileContainerResourceUrl"], "http://artifacts.test:9/download/42");

    Json items = Json::parse(bodyOf(request("GET", "/download/42?itemPath=dist")));
    ASSERT_EQ(items["value"].size(), 2u) << items;
    EXPECT_EQ(items["value"][0]["path"], "dist/small.txt");
    EXPECT_EQ(items["value"][0]["itemType"], "file");
    EXPECT_EQ(items["value"][0]["contentLocation"],
              "http://artifacts.test:9/artifact/42/dist/small.txt");
    EXPECT_EQ(items["value"][1]["path"], "dist/sub/big.txt");

    auto big = request("GET", "/artifact/42/dist/sub/big.txt");
    EXPECT_EQ(statusOf(big), 200);
    EXPECT_EQ(bodyOf(big), "hello world!");
    EXPECT_EQ(headOf(big).find("Content-Encoding"), std::string::npos);
    auto small = request("GET", "/artifact/42/dist/small.txt");
    EXPECT_EQ(bodyOf(small), gz);
    EXPECT_NE(headOf(small).find("Content-Encoding: gzip\r\n"), std::string::npos) << small;

    auto head = request("HEAD", "/artifact/42/dist/sub/big.txt");
    EXPECT_EQ(statusOf(head), 200);
    EXPECT_NE(headOf(head).find("Content-Length: 12\r\n"), std::string::npos) << head;
    EXPECT_EQ(bodyOf(head), "");

    EXPECT_EQ(base::readFile(tmp_.path() / "artifacts/42/dist/sub/big.txt"), "hello world!");
    EXPECT_EQ(base::readFile(tmp_.path() / "artifacts/42/dist/small.txt"), gz);
}

TEST_F(ArtifactServerTest, EveryRouteNeedsTheTokenOfItsRun) {
    const std::string api = "/_apis/pipelines/workflows/42/artifacts";
    EXPECT_EQ(statusOf(request("GET", api, "", "", base::Secret(""))), 401);
    EXPECT_EQ(statusOf(request("GET", api, "", "", base::Secret("guess"))), 401);
    EXPECT_EQ(statusOf(request("GET", "/artifact/42/a/b", "", "", base::Secret(""))), 401);
    EXPECT_EQ(statusOf(request("GET", api, "", "", kOtherToken)), 403);
    EXPECT_EQ(statusOf(request("POST", api, R"({"Name":"x"})", "", kOtherToken)), 403);
    EXPECT_EQ(statusOf(request("GET", "/download/42?itemPath=x", "", "", kOtherToken)), 403);
    server_.revoke(kToken);
    EXPECT_EQ(statusOf(request("GET", api)), 401);
}

TEST_F(ArtifactServerTest, PathsThatEscapeTheRunDirectoryAreRefused) {
    const std::string api = "/_apis/pipelines/workflows/42/artifacts";
    ASSERT_EQ(statusOf(request("POST", api, R"({"Name":"a"})")), 200);
    for (std::string name : {"..", "a/b", "../..", "/abs", "x\\\\y", ""}) {
        EXPECT_EQ(statusOf(request("POST", api, R"({"Name":")" + name + "\"}")), 400) << name;
    }
    for (std::string item : {"../x", "a/../../x", "a%2F..%2F..%2Fx", "%2Fetc%2Fpasswd", "a/%00x",
                             "a%5C..%5C..%5Cx", "a"}) {
        auto r = put(item, "x", "bytes 0-0/1");
        EXPECT_EQ(statusOf(r), 400) << item << r;
    }
    ASSERT_EQ(statusOf(request("PATCH", api + "?artifactName=a")), 200);
    for (std::string target :
         {"/artifact/42/a/..%2F..%2F..%2Fetc%2Fpasswd", "/artifact/42/%2e%2e/a/x",
          "/artifact/42/a/../../x", "/artifact/..%2F42/a/x"}) {
        auto r = request("GET", target);
        EXPECT_TRUE(statusOf(r) == 400 || statusOf(r) == 403 || statusOf(r) == 404) << target << r;
    }
    // Nothing appeared outside the run's directory (and the v4 tree).
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp_.path()), fs::directory_iterator()), 1);
    EXPECT_EQ(
        std::distance(fs::directory_iterator(tmp_.path() / "artifacts"), fs::directory_iterator()),
        2);
}

TEST_F(ArtifactServerTest, BadRequestsGetClearErrorsAndTheServerGoesOn) {
    const std::string api = "/_apis/pipelines/workflows/42/artifacts";
    auto r = request("POST", api, "{not json");
    EXPECT_EQ(statusOf(r), 400);
    EXPECT_NE(bodyOf(r).find("\"message\""), std::string::npos);
    EXPECT_EQ(statusOf(request("POST", api, std::string(100 * 1024, ' '))), 400);
    EXPECT_EQ(statusOf(request("DELETE", api)), 405);
    EXPECT_EQ(statusOf(request("GET", "/_apis/other")), 404);
    EXPECT_EQ(statusOf(put("nope/x", "x", "bytes 0-0/1")), 404);  // not created
    ASSERT_EQ(statusOf(request("POST", api, R"({"Name":"a"})")), 200);
    EXPECT_EQ(statusOf(put("a/x", "xyz", "bytes 0-0/3")), 400);  // longer than its range
    EXPECT_EQ(statusOf(put("a/x", "x", "bytes 0-2/3")), 400);    // shorter
    EXPECT_EQ(statusOf(put("a/x", "x", "bananas")), 400);
    EXPECT_EQ(statusOf(request("PUT", "/upload/42", "x")), 400);  // no itemPath
    EXPECT_EQ(statusOf(request("PATCH", api + "?artifactName=zzz")), 404);
    EXPECT_EQ(statusOf(request("GET", "/download/42?itemPath=a")), 404);  // not finalized
    // A disk error (a file where a directory must go) fails that request only.
    EXPECT_EQ(statusOf(put("a/f", "f", "bytes 0-0/1")), 200);
    EXPECT_EQ(statusOf(put("a/f/g", "g", "bytes 0-0/1")), 500);
    EXPECT_EQ(statusOf(put("a/empty", "", "bytes 0--1/0")), 200);
    EXPECT_EQ(statusOf(request("PATCH", api + "?artifactName=a", R"({"Size":1})")), 200);
    Json items = Json::parse(bodyOf(request("GET", "/download/42?itemPath=a")));
    EXPECT_EQ(items["count"], 3) << items;  // empty, f, x (x holds the one byte it got)
}

TEST(ArtifactServer, UnusableAddressIsAClearError) {
    base::TempDir tmp("artifact-server-");
    EXPECT_THROW(ArtifactServer(ArtifactServerConfig{.dir = tmp.path(), .bind_address = "nope"}),
                 base::Error);
}

}  // namespace
}  // namespace nixjail::runner::artifact_server
