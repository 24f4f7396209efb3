// The v4 artifact API of ArtifactServer over real loopback sockets: the @actions/artifact 2.x
// sequence (CreateArtifact, Azure block uploads and block list, FinalizeArtifact, ListArtifacts,
// GetSignedArtifactURL, download, DeleteArtifact), a single-shot blob PUT, and what is refused:
// bad or expired signatures, other runs, unknown names, unfinished uploads, v3/v4 name clashes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "runner/artifact_server/artifact_server.h"
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
const std::string kTwirp = "/twirp/github.actions.results.api.v1.ArtifactService/";

using testing::bodyOf;
using testing::raw;
using testing::statusOf;

// The request target of a URL this server handed out ("http://host:port/<target>").
std::string targetOf(const std::string& url) {
    const auto p = url.find("/artifacts-v4/");
    EXPECT_NE(p, std::string::npos) << url;
    return p == std::string::npos ? url : url.substr(p);
}

class ResultsServiceTest : public ::testing::Test {
  protected:
    explicit ResultsServiceTest(std::chrono::seconds ttl = std::chrono::hours(1))
        : server_(ArtifactServerConfig{.dir = tmp_.path() / "artifacts", .signed_url_ttl = ttl}) {
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

    // A twirp call with the ids @actions/artifact 2.x sends.
    std::string call(const std::string& method, Json req, const base::Secret& token = kToken,
                     const std::string& run = "42") {
        req["workflow_run_backend_id"] = run;
        req["workflow_job_run_backend_id"] = "exec";
        return request("POST", kTwirp + method, req.dump(), "Content-Type: application/json\r\n",
                       token);
    }

    Json ok(const std::string& method, Json req) {
        auto r = call(method, std::move(req));
        EXPECT_EQ(statusOf(r), 200) << method << " " << r;
        return statusOf(r) == 200 ? Json::parse(bodyOf(r)) : Json::object();
    }

    // PUTs to a signed URL without the bearer token, as the Azure blob client does.
    std::string blobPut(const std::string& url, const std::string& query, const std::string& body,
                        const std::string& extra = "") {
        return request("PUT", targetOf(url) + query, body, extra, base::Secret(""));
    }

    std::string createUpload(const std::string& name) {
        Json c = ok("CreateArtifact", {{"name", name}, {"version", 4}});
        EXPECT_EQ(c.value("ok", false), true) << c;
        return c.value("signed_upload_url", "");
    }

    base::TempDir tmp_{"artifact-v4-"};
    ArtifactServer server_;
};

TEST_F(ResultsServiceTest, UploadListAndDownloadLikeActionsArtifactV2) {
    const std::string url = createUpload("dist");
    EXPECT_TRUE(url.starts_with("http://artifacts.test:9/artifacts-v4/42/dist?")) << url;
    // Blocks out of order, then the list that orders them; ids are base64, %-encoded in the URL.
    EXPECT_EQ(statusOf(blobPut(url, "&comp=block&blockid=QkJCQg%3D%3D", "world")), 201);
    EXPECT_EQ(statusOf(blobPut(url, "&comp=block&blockid=QUFBQQ%3D%3D", "hello ")), 201);
    auto committed = blobPut(url, "&comp=blocklist",
                             "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
                             "<BlockList><Latest>QUFBQQ==</Latest><Latest>QkJCQg==</Latest>"
                             "</BlockList>",
                             "Content-Type: application/xml\r\n");
    ASSERT_EQ(statusOf(committed), 201) << committed;
    // Not visible before FinalizeArtifact, neither listed nor on disk under its name.
    EXPECT_EQ(ok("ListArtifacts", Json::object())["artifacts"].size(), 0u);
    EXPECT_FALSE(fs::exists(tmp_.path() / "artifacts/v4/42/dist.zip"));
    Json fin = ok("FinalizeArtifact", {{"name", "dist"}, {"size", "11"}, {"hash", "sha256:cafe"}});
    EXPECT_EQ(fin["ok"], true);
    const std::string id = fin.value("artifact_id", "");
    EXPECT_FALSE(id.empty()) << fin;

    Json list = ok("ListArtifacts", Json::object());
    ASSERT_EQ(list["artifacts"].size(), 1u) << list;
    const Json& a = list["artifacts"][0];
    EXPECT_EQ(a["name"], "dist");
    EXPECT_EQ(a["database_id"], id);
    EXPECT_EQ(a["size"], "11");  // int64 as a JSON string
    EXPECT_EQ(a["digest"], "sha256:cafe");
    EXPECT_EQ(a["workflow_run_backend_id"], "42");
    EXPECT_EQ(a["workflow_job_run_backend_id"], "exec");
    EXPECT_TRUE(a["created_at"].get<std::string>().ends_with("Z")) << a;
    EXPECT_EQ(ok("ListArtifacts", {{"name_filter", "dist"}})["artifacts"].size(), 1u);
    EXPECT_EQ(ok("ListArtifacts", {{"name_filter", "other"}})["artifacts"].size(), 0u);
    EXPECT_EQ(ok("ListArtifacts", {{"id_filter", id}})["artifacts"].size(), 1u);
    EXPECT_EQ(ok("ListArtifacts", {{"id_filter", "999"}})["artifacts"].size(), 0u);

    const std::string signed_url = ok("GetSignedArtifactURL", {{"name", "dist"}})["signed_url"];
    auto got = request("GET", targetOf(signed_url), "", "", base::Secret(""));
    ASSERT_EQ(statusOf(got), 200) << got;
    EXPECT_EQ(bodyOf(got), "hello world");
    EXPECT_EQ(base::readFile(tmp_.path() / "artifacts/v4/42/dist.zip"), "hello world");
    // Staging is gone once finalized.
    EXPECT_FALSE(fs::exists(tmp_.path() / ("artifacts/v4/42/.staging/" + id)));

    // The other run's token sees nothing of run 42 and may not name it.
    EXPECT_EQ(statusOf(call("ListArtifacts", Json::object(), kOtherToken, "42")), 403);
    auto other = call("ListArtifacts", Json::object(), kOtherToken, "43");
    EXPECT_EQ(Json::parse(bodyOf(other))["artifacts"].size(), 0u) << other;

    // A second upload of the name conflicts; after DeleteArtifact it is gone and may be reused.
    EXPECT_EQ(statusOf(call("CreateArtifact", {{"name", "dist"}, {"version", 4}})), 409);
    EXPECT_EQ(ok("DeleteArtifact", {{"name", "dist"}})["artifact_id"], id);
    EXPECT_FALSE(fs::exists(tmp_.path() / "artifacts/v4/42/dist.zip"));
    EXPECT_EQ(statusOf(request("GET", targetOf(signed_url), "", "", base::Secret(""))), 404);
    EXPECT_EQ(statusOf(call("GetSignedArtifactURL", {{"name", "dist"}})), 404);
    EXPECT_EQ(statusOf(call("DeleteArtifact", {{"name", "dist"}})), 404);
    createUpload("dist");
}

TEST_F(ResultsServiceTest, ASingleShotBlobPut) {
    const std::string url = createUpload("one shot");
    EXPECT_NE(url.find("/42/one%20shot?"), std::string::npos) << url;
    EXPECT_EQ(statusOf(blobPut(url, "", "zipbytes")), 400);  // no x-ms-blob-type
    ASSERT_EQ(statusOf(blobPut(url, "", "zipbytes", "x-ms-blob-type: BlockBlob\r\n")), 201);
    EXPECT_EQ(statusOf(call("FinalizeArtifact", {{"name", "one shot"}, {"size", "7"}})), 400);
    ok("FinalizeArtifact", {{"name", "one shot"}, {"size", 8}});  // a plain number is fine too
    EXPECT_EQ(base::readFile(tmp_.path() / "artifacts/v4/42/one shot.zip"), "zipbytes");
}

TEST_F(ResultsServiceTest, SignedUrlsWorkOnlyAsSigned) {
    const std::string url = createUpload("dist");
    const std::string target = targetOf(url);
    auto tampered = target;
    tampered[tampered.size() - 1] = tampered.back() == '0' ? '1' : '0';
    auto r = request("PUT", tampered + "&comp=block&blockid=QQ%3D%3D", "x", "", base::Secret(""));
    EXPECT_EQ(statusOf(r), 403) << r;
    EXPECT_NE(r.find("<Code>AuthenticationFailed</Code>"), std::string::npos) << r;
    EXPECT_NE(r.find("bad signature"), std::string::npos) << r;
    // Another artifact's name or id under the same signature.
    auto renamed = target;
    renamed.replace(renamed.find("/dist?"), 6, "/dist2?");
    EXPECT_EQ(statusOf(request("PUT", renamed + "&comp=block&blockid=QQ%3D%3D", "x", "",
                               base::Secret(""))),
              403);
    auto no_sig = target.substr(0, target.find("&sig="));
    EXPECT_EQ(statusOf(request("PUT", no_sig + "&comp=block&blockid=QQ%3D%3D", "x", "",
                               base::Secret(""))),
              403);
    EXPECT_EQ(statusOf(request("GET", "/artifacts-v4/42/dist", "", "", base::Secret(""))), 403);
    // The upload URL does not download.
    EXPECT_EQ(statusOf(request("GET", target, "", "", base::Secret(""))), 403);
    // An upload URL of a replaced upload (the same name created again) no longer works.
    createUpload("dist");
    EXPECT_EQ(statusOf(blobPut(url, "&comp=block&blockid=QQ%3D%3D", "x")), 404);
    EXPECT_EQ(statusOf(request("DELETE", target, "", "", base::Secret(""))), 405);
}

class ExpiredUrlTest : public ResultsServiceTest {
  protected:
    ExpiredUrlTest() : ResultsServiceTest(std::chrono::seconds(-1)) {}
};

TEST_F(ExpiredUrlTest, AnExpiredUrlIsRefused) {
    const std::string url = createUpload("dist");
    auto r = blobPut(url, "", "x", "x-ms-blob-type: BlockBlob\r\n");
    EXPECT_EQ(statusOf(r), 403) << r;
    EXPECT_NE(r.find("expired"), std::string::npos) << r;
}

TEST_F(ResultsServiceTest, TwirpCallsNeedTheTokenAndGoodRequests) {
    EXPECT_EQ(statusOf(call("ListArtifacts", Json::object(), base::Secret(""))), 401);
    EXPECT_EQ(statusOf(call("ListArtifacts", Json::object(), base::Secret("guess"))), 401);
    auto r = call("ListArtifacts", Json::object(), kToken, "43");
    EXPECT_EQ(statusOf(r), 403);
    EXPECT_EQ(Json::parse(bodyOf(r))["code"], "permission_denied") << r;
    EXPECT_EQ(statusOf(request("POST", kTwirp + "ListArtifacts", "{}")), 400);  // no run id
    EXPECT_EQ(statusOf(request("POST", kTwirp + "ListArtifacts", "{nope")), 400);
    EXPECT_EQ(statusOf(request("POST", kTwirp + "ListArtifacts", "\x0a\x02",
                               "Content-Type: application/protobuf\r\n")),
              400);
    EXPECT_EQ(statusOf(request("GET", kTwirp + "ListArtifacts")), 405);
    r = call("MigrateArtifact", Json::object());
    EXPECT_EQ(statusOf(r), 404);
    EXPECT_EQ(Json::parse(bodyOf(r))["code"], "not_found");
    EXPECT_EQ(statusOf(request("POST", "/twirp/other.Service/X", "{}")), 404);
    EXPECT_EQ(statusOf(call("CreateArtifact", {{"name", "x"}, {"version", 3}})), 400);
    for (const char* bad : {"", "..", "a/b", "a\\b"}) {
        EXPECT_EQ(statusOf(call("CreateArtifact", {{"name", bad}, {"version", 4}})), 400) << bad;
    }
    // Finalize before anything was uploaded, or of an unknown name.
    createUpload("early");
    r = call("FinalizeArtifact", {{"name", "early"}, {"size", "0"}});
    EXPECT_EQ(statusOf(r), 409) << r;
    EXPECT_NE(Json::parse(bodyOf(r))["msg"].get<std::string>().find("no uploaded content"),
              std::string::npos);
    EXPECT_EQ(statusOf(call("FinalizeArtifact", {{"name", "nope"}, {"size", "0"}})), 404);
    EXPECT_EQ(statusOf(call("FinalizeArtifact", {{"name", "early"}})), 400);  // no size
    EXPECT_EQ(statusOf(call("GetSignedArtifactURL", {{"name", "early"}})), 404);
    // A block list naming a block never staged, and one that is not XML.
    const std::string url = createUpload("blocks");
    EXPECT_EQ(
        statusOf(blobPut(url, "&comp=blocklist", "<BlockList><Latest>QQ==</Latest></BlockList>")),
        400);
    EXPECT_EQ(statusOf(blobPut(url, "&comp=blocklist", "{}")), 400);
    EXPECT_EQ(statusOf(blobPut(url, "&comp=appendblock", "x")), 400);
    EXPECT_EQ(statusOf(blobPut(url, "&comp=block", "x")), 400);  // no blockid
}

TEST_F(ResultsServiceTest, OneNameIsOneArtifactAcrossV3AndV4) {
    const std::string v3 = "/_apis/pipelines/workflows/42/artifacts?api-version=6.0-preview";
    ASSERT_EQ(statusOf(request("POST", v3, R"({"Type":"actions_storage","Name":"old"})")), 200);
    EXPECT_EQ(statusOf(call("CreateArtifact", {{"name", "old"}, {"version", 4}})), 409);
    createUpload("new");
    EXPECT_EQ(statusOf(request("POST", v3, R"({"Type":"actions_storage","Name":"new"})")), 409);
}

TEST(ResultsService, RunIdV4IsReservedForTheV4Tree) {
    base::TempDir tmp("artifact-v4-");
    ArtifactServer server(ArtifactServerConfig{.dir = tmp.path()});
    EXPECT_THROW(server.authorize(base::Secret("t"), "v4"), base::Error);
}

}  // namespace
}  // namespace nixjail::runner::artifact_server
