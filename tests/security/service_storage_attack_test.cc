// Attacks on the runner's artifact and actions/cache servers (runner/artifact_server,
// runner/cache_server) from a step in the job's jail, through the job's proxy by the names the
// runner pins for them: path traversal in artifact names, item paths, run ids, cache keys and
// archive URLs (../, %2f, absolute, NUL, backslash, over-long, a zip holding a link and a ../
// entry); uploads beyond the servers' budgets, and uploads into a disk that is really full (a small
// tmpfs). A file planted beside the storage must be neither overwritten nor served, nothing may
// appear outside the storage directories, every refusal is a 4xx or 507 saying why, and the
// servers must go on serving.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "executor/namespace/namespace_executor.h"
#include "executor/namespace/test_root.h"
#include "runner/artifact_server/artifact_server.h"
#include "runner/artifact_server/runtime_token.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/secret.h"
#include "runner/base/temp_dir.h"
#include "runner/cache_server/cache_server.h"
#include "runner/network/job_network.h"
#include "tests/integration/require.h"
#include "tests/security/attack_backend.h"
#include "tests/security/jail_in_job_network.h"

namespace nixjail::executor {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kArtifactsHost = "artifacts.nixjail.internal";
constexpr const char* kCacheHost = "actions-cache.nixjail.internal";
constexpr std::uint64_t kMiB = 1 << 20;

// A small tmpfs: a disk that is full for real. Unmounted (lazily) when destroyed.
class SmallTmpfs {
  public:
    SmallTmpfs(fs::path at, std::uint64_t bytes) : at_(std::move(at)) {
        fs::create_directories(at_);
        const std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
        if (::mount("nixjail-test-full", at_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                    options.c_str()) != 0) {
            throw base::SysError("cannot mount a tmpfs on '" + at_.string() + "'");
        }
    }
    ~SmallTmpfs() { ::umount2(at_.c_str(), MNT_DETACH); }
    SmallTmpfs(const SmallTmpfs&) = delete;
    SmallTmpfs& operator=(const SmallTmpfs&) = delete;

  private:
    fs::path at_;
};

std::string sha256Hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    std::string out;
    for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
    return out;
}

// Every path under `dir`, sorted (symbolic links as themselves).
std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

class ServiceStorageAttack : public ::testing::Test {
  protected:
    void SetUp() override {
        NIXJAIL_REQUIRE_ATTACK_BACKEND();
        NIXJAIL_REQUIRE(::access("/usr/bin/python3", X_OK) == 0, "needs /usr/bin/python3 (apt-get install python3)");
        ::chmod(base_.path().c_str(), 0755);
        fs::create_directories(plant());
        base::writeFile(plant() / "secret.txt", secret_ + "\n");
        base::writeFile(plant() / "victim.txt", "host file\n");
        plant_before_ = listing(plant());
    }

    fs::path plant() const { return base_.path() / "plant"; }
    fs::path store() const { return base_.path() / "store"; }

    // Starts both servers on `artifacts` and `cache`, the job's network with their pins, and the
    // jail, as the runner does for a job.
    void start(const fs::path& artifacts, const fs::path& cache, std::uint64_t artifact_budget,
               std::uint64_t cache_budget) {
        artifacts_ = std::make_unique<runner::artifact_server::ArtifactServer>(
            runner::artifact_server::ArtifactServerConfig{.dir = artifacts,
                                                          .budget_bytes = artifact_budget});
        cache_ = std::make_unique<runner::cache_server::CacheServer>(
            runner::cache_server::CacheServerConfig{.dir = cache, .budget_bytes = cache_budget});
        artifacts_->authorize(token_, "7");
        cache_->authorize(token_, "owner/repo");
        runner::network::NetworkSettings settings;
        const std::string apin = "127.0.0.1:" + std::to_string(artifacts_->port());
        const std::string cpin = "127.0.0.1:" + std::to_string(cache_->port());
        settings.host_overrides = {{kArtifactsHost, apin}, {kCacheHost, cpin}};
        settings.service_hosts = {kArtifactsHost, kCacheHost};
        job_ = std::make_unique<testing::JailInJobNetwork>(ns_, settings, "storage", net_dir_.path());
        base::writeFile(job_->workspace() / "client.py", base::readFile(NIXJAIL_SERVICE_CLIENT));
        env_ = {"PATH=/usr/bin:/bin", "HOME=/workspace", "ACTIONS_RUNTIME_TOKEN=" + token_.reveal(),
                "ACTIONS_RUNTIME_URL=http://" + std::string(kArtifactsHost) + ":" +
                    std::to_string(artifacts_->port()) + "/",
                "ACTIONS_CACHE_URL=http://" + std::string(kCacheHost) + ":" +
                    std::to_string(cache_->port()) + "/"};
        for (const auto& [k, v] : job_->network().environment()) env_.push_back(k + "=" + v);
    }

    // Runs a shell command in the jail; returns its merged output.
    std::string sh(const std::string& command) {
        return job_->sh(command, env_, std::chrono::seconds(120));
    }

    // Sends `requests` from the jail (service_client.py); returns each answer by its label.
    std::map<std::string, Json> send(const Json& requests) {
        const std::string file = "requests-" + std::to_string(++batches_) + ".json";
        base::writeFile(job_->workspace() / file, requests.dump());
        ::chmod((job_->workspace() / file).c_str(), 0644);
        const std::string out = sh("python3 /workspace/client.py /workspace/" + file);
        std::map<std::string, Json> answers;
        std::istringstream lines(out);
        for (std::string line; std::getline(lines, line);) {
            if (!line.starts_with("{")) continue;
            Json j = Json::parse(line, nullptr, false);
            if (j.is_object()) answers[j.value("label", "")] = j;
        }
        EXPECT_EQ(answers.size(), requests.size()) << out;
        EXPECT_EQ(out.find(secret_), std::string::npos) << out;
        return answers;
    }

    // The planted files are untouched, and nothing exists under the test's directory but the
    // plant and the storage.
    void expectNothingOutsideTheStorage() {
        EXPECT_EQ(base::readFile(plant() / "secret.txt"), secret_ + "\n");
        EXPECT_EQ(base::readFile(plant() / "victim.txt"), "host file\n");
        EXPECT_EQ(listing(plant()), plant_before_);
        for (const auto& p : listing(base_.path())) {
            EXPECT_TRUE(p.starts_with(plant().string()) || p.starts_with(store().string())) << p;
        }
    }

    Json auth() const { return {{"Authorization", "Bearer ${env.ACTIONS_RUNTIME_TOKEN}"}}; }
    Json jsonAuth() const {
        Json h = auth();
        h["Content-Type"] = "application/json";
        return h;
    }
    static std::string v3(const std::string& rest) { return "${env.ACTIONS_RUNTIME_URL}" + rest; }
    static std::string workflows() { return v3("_apis/pipelines/workflows/7/artifacts"); }
    static std::string twirp(const std::string& method) {
        return v3("twirp/github.actions.results.api.v1.ArtifactService/" + method);
    }
    static std::string cacheApi(const std::string& rest) {
        return "${env.ACTIONS_CACHE_URL}_apis/artifactcache/" + rest;
    }
    static std::string createV4(const std::string& name) {
        return R"({"workflow_run_backend_id":"7","workflow_job_run_backend_id":"exec","name":")" +
               name + R"(","version":4})";
    }

    const std::string secret_ = "PLANTED-SECRET-" + std::to_string(std::random_device{}());
    base::TempDir base_{"nixjail-security-storage-"};
    base::TempDir net_dir_{"nixjail-security-storage-net-"};
    std::vector<std::string> plant_before_;
    std::vector<std::unique_ptr<SmallTmpfs>> disks_;  // before the servers: they outlive them
    const base::Secret token_{runner::artifact_server::makeRuntimeToken("7")};
    std::unique_ptr<runner::artifact_server::ArtifactServer> artifacts_;
    std::unique_ptr<runner::cache_server::CacheServer> cache_;
    NamespaceExecutor ns_;
    std::unique_ptr<testing::JailInJobNetwork> job_;
    std::vector<std::string> env_;
    int batches_ = 0;
};

TEST_F(ServiceStorageAttack, TraversalInNamesPathsAndKeysNeverLeavesTheStorage) {
    start(store() / "artifacts", store() / "cache", 64 * kMiB, 64 * kMiB);
    const std::string up = "../../../../plant/victim.txt";  // from <artifacts>/7/ok to the plant
    const std::string upEncoded = "..%2F..%2F..%2F..%2Fplant%2Fvictim.txt";
    const std::string abs = plant().string() + "/victim.txt";
    const Json over = {{"Content-Range", "bytes 0-10/11"}};
    auto put = [&](const std::string& label, const std::string& query) {
        Json h = auth();
        h.update(over);
        return Json{{"label", label},
                    {"method", "PUT"},
                    {"url", v3("upload/7?itemPath=" + query)},
                    {"headers", h},
                    {"body", "OVERWRITTEN"}};
    };
    auto create = [&](const std::string& label, const std::string& name) {
        return Json{{"label", label},
                    {"method", "POST"},
                    {"url", workflows()},
                    {"headers", jsonAuth()},
                    {"body", R"({"Type":"actions_storage","Name":")" + name + R"("})"}};
    };
    auto get = [&](const std::string& label, const std::string& url) {
        return Json{{"label", label}, {"method", "GET"}, {"url", url}, {"headers", auth()}};
    };
    auto twirpCreate = [&](const std::string& label, const std::string& name) {
        return Json{{"label", label},
                    {"method", "POST"},
                    {"url", twirp("CreateArtifact")},
                    {"headers", jsonAuth()},
                    {"body", createV4(name)}};
    };
    const std::string longName(300, 'a');
    std::string longPath = "ok";
    for (int i = 0; i < 6; ++i) longPath += "/" + std::string(200, 'b');
    Json requests = Json::array({
        // v3 artifact names.
        create("create-dotdot", "../../../plant"),
        create("create-absolute", plant().string()),
        create("create-backslash", "..\\\\..\\\\plant"),
        create("create-nul", "a\\u0000b"),
        create("create-long", longName),
        create("create-ok", "ok"),
        // v3 item paths: each shape of "somewhere else".
        put("put-dotdot", "ok/" + up),
        put("put-encoded", "ok%2F" + upEncoded),
        put("put-absolute", abs),
        put("put-nul", "ok/a%00b"),
        put("put-backslash", "ok/..%5C..%5C..%5C..%5Cplant%5Cvictim.txt"),
        put("put-long-component", "ok/" + longName),
        put("put-long-path", longPath),
        // Decoded once: stored under that literal name inside the artifact.
        put("put-double-encoded", "ok/%252E%252E%252Fliteral"),
        {{"label", "put-run-dotdot"},
         {"method", "PUT"},
         {"url", v3("upload/..%2F..%2Fplant?itemPath=ok/x")},
         {"headers", auth()},
         {"body", "x"}},
        {{"label", "finalize-ok"},
         {"method", "PATCH"},
         {"url", workflows() + "?artifactName=ok"},
         {"headers", jsonAuth()},
         {"body", R"({"Size":11})"}},
        // Reading back through the same shapes.
        get("get-dotdot", v3("artifact/7/ok/../../../../plant/secret.txt")),
        get("get-encoded", v3("artifact/7/ok%2F..%2F..%2F..%2F..%2Fplant%2Fsecret.txt")),
        get("get-run-dotdot", v3("artifact/..%2F..%2Fplant/secret.txt")),
        get("get-absolute", v3("artifact/7/" + plant().string() + "/secret.txt")),
        get("list-dotdot", v3("download/7?itemPath=../../plant")),
        // v4 artifact names.
        twirpCreate("v4-dotdot", "../../plant"),
        twirpCreate("v4-slash", "a/b"),
        twirpCreate("v4-backslash", "..\\\\plant"),
        twirpCreate("v4-dot", ".."),
        // A zip holding a link out and a ../ entry ("zip slip"): stored as it is, never unpacked.
        twirpCreate("v4-zip", "zipslip"),
        {{"label", "v4-zip-put"},
         {"method", "PUT"},
         {"url", "${v4-zip.signed_upload_url}"},
         {"headers", {{"x-ms-blob-type", "BlockBlob"}}},
         {"body_zip",
          {{{"name", "link"}, {"symlink", true}, {"target", "../../../../plant/secret.txt"}},
           {{"name", "../../../../plant/victim.txt"}, {"data", "OVERWRITTEN"}}}}},
        {{"label", "v4-zip-finalize"},
         {"method", "POST"},
         {"url", twirp("FinalizeArtifact")},
         {"headers", jsonAuth()},
         {"body",
          R"({"workflow_run_backend_id":"7","name":"zipslip","size":"${v4-zip-put.size}"})"}},
        // Cache keys are data, never file names; archives are named by number.
        {{"label", "cache-reserve"},
         {"method", "POST"},
         {"url", cacheApi("caches")},
         {"headers", jsonAuth()},
         {"body", R"({"key":")" + up + R"(","version":"v1","cacheSize":11})"}},
        {{"label", "cache-upload"},
         {"method", "PATCH"},
         {"url", cacheApi("caches/${cache-reserve.cacheId}")},
         {"headers",
          {{"Authorization", "Bearer ${env.ACTIONS_RUNTIME_TOKEN}"},
           {"Content-Range", "bytes 0-10/*"}}},
         {"body", "JOB-CONTENT"}},
        {{"label", "cache-commit"},
         {"method", "POST"},
         {"url", cacheApi("caches/${cache-reserve.cacheId}")},
         {"headers", jsonAuth()},
         {"body", R"({"size":11})"}},
        get("cache-lookup", cacheApi("cache?keys=" + up + "&version=v1")),
        get("cache-download", "${cache-lookup.archiveLocation}"),
        get("cache-get-dotdot", cacheApi("artifacts/../../../../plant/secret.txt")),
        get("cache-get-encoded", cacheApi("artifacts/..%2F..%2F..%2F..%2Fplant%2Fsecret.txt")),
        {{"label", "cache-id-dotdot"},
         {"method", "PATCH"},
         {"url", cacheApi("caches/..%2F1")},
         {"headers", auth()},
         {"body", "x"}},
    });
    auto a = send(requests);
    auto expect = [&](const std::string& label, int status, const std::string& why) {
        EXPECT_EQ(a[label].value("status", 0), status) << label << ": " << a[label];
        EXPECT_NE(a[label].value("body", "").find(why), std::string::npos)
            << label << ": " << a[label];
    };
    for (const char* c :
         {"create-dotdot", "create-absolute", "create-backslash", "create-nul", "create-long"}) {
        expect(c, 400, "bad artifact name");
    }
    expect("create-ok", 200, "\"name\":\"ok\"");
    for (const char* p : {"put-dotdot", "put-encoded", "put-absolute", "put-nul", "put-backslash",
                          "put-long-component", "put-long-path"}) {
        expect(p, 400, "bad itemPath");
    }
    expect("put-double-encoded", 200, "ok/%2E%2E%2Fliteral");
    expect("put-run-dotdot", 403, "may not touch the artifacts of run ../../plant");
    expect("finalize-ok", 200, "\"name\":\"ok\"");
    expect("get-dotdot", 400, "bad itemPath");
    expect("get-encoded", 400, "bad itemPath");
    expect("get-run-dotdot", 403, "may not touch the artifacts of run ..");
    expect("get-absolute", 400, "bad itemPath");
    expect("list-dotdot", 404, "no finalized artifact '..'");
    for (const char* v : {"v4-dotdot", "v4-slash", "v4-backslash", "v4-dot"})
        expect(v, 400, "name");
    expect("v4-zip-put", 201, "");
    expect("v4-zip-finalize", 200, "artifact_id");
    expect("cache-reserve", 200, "cacheId");
    expect("cache-upload", 204, "");
    expect("cache-commit", 204, "");
    expect("cache-lookup", 200, "archiveLocation");
    expect("cache-download", 200, "JOB-CONTENT");  // the job's own bytes, not the host file's
    expect("cache-get-dotdot", 404, "no cache archive");
    expect("cache-get-encoded", 404, "no cache archive");
    expect("cache-id-dotdot", 400, "bad cache id");

    // The storage holds exactly what the job stored, under names the servers chose.
    EXPECT_EQ(base::readFile(store() / "artifacts/7/ok/%2E%2E%2Fliteral"), "OVERWRITTEN");
    const fs::path zip = store() / "artifacts/v4/7/zipslip.zip";
    ASSERT_TRUE(fs::is_regular_file(zip));
    EXPECT_EQ(sha256Hex(base::readFile(zip)), a["v4-zip-put"].value("sha256", "?"));
    for (const auto& p : listing(store())) {
        EXPECT_FALSE(fs::is_symlink(p)) << p;  // nothing unpacked, no link made
        EXPECT_EQ(fs::path(p).filename().string().find("victim"), std::string::npos) << p;
    }
    // The job cannot see the storage at all: it is reached over HTTP only.
    auto look = sh("ls " + store().string() + " " + plant().string() + " && echo VISIBLE");
    EXPECT_EQ(look.find("VISIBLE"), std::string::npos) << look;
    expectNothingOutsideTheStorage();
}

// Requests that fill a server's storage in 1 MiB pieces: v3 file chunks, cache chunks, v4 blocks.
Json v3Chunks(const std::string& label, const std::string& item, int count) {
    return {{"label", label},
            {"method", "PUT"},
            {"url", "${env.ACTIONS_RUNTIME_URL}upload/7?itemPath=" + item},
            {"headers", {{"Authorization", "Bearer ${env.ACTIONS_RUNTIME_TOKEN}"}}},
            {"chunks", {{"size", kMiB}, {"count", count}, {"range", "bytes {a}-{b}/*"}}}};
}

Json cacheChunks(const std::string& label, const std::string& reservation, int count) {
    return {{"label", label},
            {"method", "PATCH"},
            {"url",
             "${env.ACTIONS_CACHE_URL}_apis/artifactcache/caches/${" + reservation + ".cacheId}"},
            {"headers", {{"Authorization", "Bearer ${env.ACTIONS_RUNTIME_TOKEN}"}}},
            {"chunks", {{"size", kMiB}, {"count", count}, {"range", "bytes {a}-{b}/*"}}}};
}

Json v4Blocks(const std::string& label, const std::string& creation, int count) {
    return {{"label", label},
            {"method", "PUT"},
            {"url", "${" + creation + ".signed_upload_url}&comp=block&blockid=b{i}"},
            {"headers", Json::object()},
            {"chunks", {{"size", kMiB}, {"count", count}, {"range", "bytes {a}-{b}/*"}}}};
}

// Saving and restoring one small cache entry, then (with `artifact`) storing one small artifact:
// the servers still serve.
Json stillServing(const std::string& tag, bool artifact = true) {
    const Json auth = {{"Authorization", "Bearer ${env.ACTIONS_RUNTIME_TOKEN}"}};
    Json json = auth;
    json["Content-Type"] = "application/json";
    Json range = auth;
    range["Content-Range"] = "bytes 0-4/*";
    const std::string cache = "${env.ACTIONS_CACHE_URL}_apis/artifactcache/";
    const std::string workflows = "${env.ACTIONS_RUNTIME_URL}_apis/pipelines/workflows/7/artifacts";
    Json cacheRequests =
        Json::array({{{"label", tag + "-reserve"},
                      {"method", "POST"},
                      {"url", cache + "caches"},
                      {"headers", json},
                      {"body", R"({"key":")" + tag + R"(","version":"v1","cacheSize":5})"}},
                     {{"label", tag + "-upload"},
                      {"method", "PATCH"},
                      {"url", cache + "caches/${" + tag + "-reserve.cacheId}"},
                      {"headers", range},
                      {"body", "small"}},
                     {{"label", tag + "-commit"},
                      {"method", "POST"},
                      {"url", cache + "caches/${" + tag + "-reserve.cacheId}"},
                      {"headers", json},
                      {"body", R"({"size":5})"}},
                     {{"label", tag + "-lookup"},
                      {"method", "GET"},
                      {"url", cache + "cache?keys=" + tag + "&version=v1"},
                      {"headers", auth}},
                     {{"label", tag + "-restore"},
                      {"method", "GET"},
                      {"url", "${" + tag + "-lookup.archiveLocation}"},
                      {"headers", auth}}});
    if (!artifact) return cacheRequests;
    for (Json r :
         Json::array({{{"label", tag + "-create"},
                       {"method", "POST"},
                       {"url", workflows},
                       {"headers", json},
                       {"body", R"({"Type":"actions_storage","Name":")" + tag + R"("})"}},
                      {{"label", tag + "-put"},
                       {"method", "PUT"},
                       {"url", "${env.ACTIONS_RUNTIME_URL}upload/7?itemPath=" + tag + "/f"},
                       {"headers", auth},
                       {"body", "small"}},
                      {{"label", tag + "-finalize"},
                       {"method", "PATCH"},
                       {"url", workflows + "?artifactName=" + tag},
                       {"headers", json},
                       {"body", R"({"Size":5})"}}})) {
        cacheRequests.push_back(std::move(r));
    }
    return cacheRequests;
}

void expectStillServing(std::map<std::string, Json>& a, const std::string& tag,
                        bool artifact = true) {
    std::vector<std::pair<std::string, int>> want{
        {"-reserve", 200}, {"-upload", 204}, {"-commit", 204}, {"-lookup", 200}, {"-restore", 200}};
    if (artifact) want.insert(want.end(), {{"-create", 200}, {"-put", 200}, {"-finalize", 200}});
    for (const auto& [suffix, status] : want) {
        EXPECT_EQ(a[tag + suffix].value("status", 0), status)
            << tag + suffix << ": " << a[tag + suffix];
    }
    EXPECT_EQ(a[tag + "-restore"].value("body", ""), "small");
}

// Bytes the files under `dir` take on disk, and the largest apparent size among them.
std::pair<std::uint64_t, std::uint64_t> diskUse(const fs::path& dir) {
    std::uint64_t used = 0, largest = 0;
    for (const auto& p : listing(dir)) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        used += static_cast<std::uint64_t>(st.st_blocks) * 512;
        largest = std::max(largest, static_cast<std::uint64_t>(st.st_size));
    }
    return {used, largest};
}

TEST_F(ServiceStorageAttack, UploadsBeyondTheBudgetsAreRefusedAndTheServersGoOn) {
    constexpr std::uint64_t kBudget = 4 * kMiB;
    start(store() / "artifacts", store() / "cache", kBudget, kBudget);
    const std::string workflows = v3("_apis/pipelines/workflows/7/artifacts");
    Json requests = Json::array({
        // v3: 3 MiB fit, the fifth MiB does not; nor does a chunk at 1 TiB (a sparse file).
        {{"label", "create-big"},
         {"method", "POST"},
         {"url", workflows},
         {"headers", jsonAuth()},
         {"body", R"({"Type":"actions_storage","Name":"big"})"}},
        v3Chunks("v3-fill", "big/a", 8),
        {{"label", "v3-far"},
         {"method", "PUT"},
         {"url", v3("upload/7?itemPath=big/sparse")},
         {"headers",
          {{"Authorization", "Bearer ${env.ACTIONS_RUNTIME_TOKEN}"},
           {"Content-Range", "bytes 1099511627776-1099511627776/1099511627777"}}},
         {"body", "x"}},
        {{"label", "v3-finalize-big"},
         {"method", "PATCH"},
         {"url", workflows + "?artifactName=big"},
         {"headers", jsonAuth()},
         {"body", R"({"Size":-1})"}},
        // v4: blocks beyond the budget (what is left of it after v3).
        {{"label", "v4-create"},
         {"method", "POST"},
         {"url", twirp("CreateArtifact")},
         {"headers", jsonAuth()},
         {"body", createV4("bigzip")}},
        v4Blocks("v4-fill", "v4-create", 8),
        // actions/cache: a declared size beyond the budget, and an undeclared one that grows.
        {{"label", "cache-declared"},
         {"method", "POST"},
         {"url", cacheApi("caches")},
         {"headers", jsonAuth()},
         {"body", R"({"key":"huge","version":"v1","cacheSize":5242880})"}},
        {{"label", "cache-undeclared"},
         {"method", "POST"},
         {"url", cacheApi("caches")},
         {"headers", jsonAuth()},
         {"body", R"({"key":"grows","version":"v1"})"}},
        cacheChunks("cache-fill", "cache-undeclared", 8),
    });
    for (const Json& r : stillServing("after-budget")) requests.push_back(r);
    requests.push_back(
        {{"label", "v3-list"}, {"method", "GET"}, {"url", workflows}, {"headers", auth()}});
    auto a = send(requests);
    EXPECT_EQ(a["v3-fill"]["accepted_chunks"], 4) << a["v3-fill"];
    EXPECT_EQ(a["v3-fill"].value("status", 0), 413) << a["v3-fill"];
    EXPECT_NE(a["v3-fill"].value("body", "").find("beyond the artifact budget of 4194304 bytes"),
              std::string::npos)
        << a["v3-fill"];
    EXPECT_EQ(a["v3-far"].value("status", 0), 413) << a["v3-far"];
    EXPECT_EQ(a["v3-finalize-big"].value("status", 0), 409) << a["v3-finalize-big"];
    EXPECT_NE(a["v3-finalize-big"].value("body", "").find("is incomplete"), std::string::npos)
        << a["v3-finalize-big"];
    // The refused file was removed, so v4 has the whole budget again.
    EXPECT_EQ(a["v4-fill"]["accepted_chunks"], 4) << a["v4-fill"];
    EXPECT_EQ(a["v4-fill"].value("status", 0), 413) << a["v4-fill"];
    EXPECT_NE(a["v4-fill"].value("body", "").find("RequestBodyTooLarge"), std::string::npos)
        << a["v4-fill"];
    EXPECT_EQ(a["cache-declared"].value("status", 0), 400) << a["cache-declared"];
    EXPECT_NE(a["cache-declared"].value("body", "").find("exceeds the cache budget"),
              std::string::npos)
        << a["cache-declared"];
    EXPECT_EQ(a["cache-fill"]["accepted_chunks"], 4) << a["cache-fill"];
    EXPECT_EQ(a["cache-fill"].value("status", 0), 400) << a["cache-fill"];
    EXPECT_NE(a["cache-fill"].value("body", "").find("beyond its size limit"), std::string::npos)
        << a["cache-fill"];
    // The refused uploads were dropped, so their bytes no longer hold the budgets: the next
    // job's cache entry and artifact fit.
    expectStillServing(a, "after-budget");
    EXPECT_EQ(a["v3-list"].value("status", 0), 200) << a["v3-list"];

    // On disk: within the budgets, and no 1 TiB sparse file.
    const auto [artifactBytes, largestArtifact] = diskUse(store() / "artifacts");
    EXPECT_LE(artifactBytes, kBudget + 64 * 1024);
    EXPECT_LE(largestArtifact, kBudget);
    EXPECT_FALSE(fs::exists(store() / "artifacts/7/big/sparse"));
    EXPECT_FALSE(fs::exists(store() / "artifacts/7/big/a"));
    EXPECT_FALSE(fs::exists(store() / "artifacts/v4/7/.staging/1"));  // dropped
    EXPECT_LE(diskUse(store() / "cache").first, kBudget + 64 * 1024);
    expectNothingOutsideTheStorage();
}

TEST_F(ServiceStorageAttack, AFullDiskFailsTheUploadCleanlyAndTheServersGoOn) {
    // Budgets far beyond the disks: the disks fill first.
    disks_.push_back(std::make_unique<SmallTmpfs>(store() / "artifacts", 6 * kMiB));
    disks_.push_back(std::make_unique<SmallTmpfs>(store() / "cache", 6 * kMiB));
    start(store() / "artifacts", store() / "cache", 1ull << 30, 1ull << 30);
    const std::string workflows = v3("_apis/pipelines/workflows/7/artifacts");
    Json requests = Json::array({
        {{"label", "cache-reserve"},
         {"method", "POST"},
         {"url", cacheApi("caches")},
         {"headers", jsonAuth()},
         {"body", R"({"key":"fill","version":"v1"})"}},
        cacheChunks("cache-fill", "cache-reserve", 10),
        {{"label", "cache-commit"},
         {"method", "POST"},
         {"url", cacheApi("caches/${cache-reserve.cacheId}")},
         {"headers", jsonAuth()},
         {"body", R"({"size":10485760})"}},
        {{"label", "cache-lookup"},
         {"method", "GET"},
         {"url", cacheApi("cache?keys=fill&version=v1")},
         {"headers", auth()}},
        {{"label", "v4-create"},
         {"method", "POST"},
         {"url", twirp("CreateArtifact")},
         {"headers", jsonAuth()},
         {"body", createV4("fullzip")}},
        v4Blocks("v4-fill", "v4-create", 10),
        {{"label", "v4-commit"},
         {"method", "PUT"},
         {"url", "${v4-create.signed_upload_url}&comp=blocklist"},
         {"headers", Json::object()},
         {"body", "<BlockList><Latest>b0</Latest></BlockList>"}},
    });
    for (const Json& r : stillServing("after-v4")) requests.push_back(r);
    for (const Json& r : Json::array({
             {{"label", "create-full"},
              {"method", "POST"},
              {"url", workflows},
              {"headers", jsonAuth()},
              {"body", R"({"Type":"actions_storage","Name":"full"})"}},
             v3Chunks("v3-fill", "full/a", 10),
             {{"label", "v3-finalize"},
              {"method", "PATCH"},
              {"url", workflows + "?artifactName=full"},
              {"headers", jsonAuth()},
              {"body", R"({"Size":-1})"}},
             {{"label", "v3-list"}, {"method", "GET"}, {"url", workflows}, {"headers", auth()}},
         })) {
        requests.push_back(r);
    }
    for (const Json& r : stillServing("after-v3")) requests.push_back(r);
    auto a = send(requests);
    // The cache: 507 naming the disk, the upload dropped with its part file, nothing to restore.
    EXPECT_EQ(a["cache-fill"].value("status", 0), 507) << a["cache-fill"];
    EXPECT_LE(a["cache-fill"].value("accepted_chunks", 99), 6) << a["cache-fill"];
    EXPECT_NE(a["cache-fill"].value("body", "").find("No space left on device"), std::string::npos)
        << a["cache-fill"];
    EXPECT_NE(a["cache-fill"].value("body", "").find("was dropped"), std::string::npos)
        << a["cache-fill"];
    EXPECT_EQ(a["cache-commit"].value("status", 0), 404) << a["cache-commit"];
    EXPECT_EQ(a["cache-lookup"].value("status", 0), 204) << a["cache-lookup"];
    // v4: what the upload staged is removed, so the space is free again, and the upload cannot
    // be committed half-staged.
    EXPECT_EQ(a["v4-fill"].value("status", 0), 507) << a["v4-fill"];
    EXPECT_NE(a["v4-fill"].value("body", "").find("No space left on device"), std::string::npos)
        << a["v4-fill"];
    EXPECT_EQ(a["v4-commit"].value("status", 0), 409) << a["v4-commit"];
    EXPECT_NE(a["v4-commit"].value("body", "").find("was dropped (the disk was full)"),
              std::string::npos)
        << a["v4-commit"];
    expectStillServing(a, "after-v4");
    // v3: 507, and the artifact whose file is partial can never be finalized or listed.
    EXPECT_EQ(a["v3-fill"].value("status", 0), 507) << a["v3-fill"];
    EXPECT_NE(a["v3-fill"].value("body", "").find("No space left on device"), std::string::npos)
        << a["v3-fill"];
    EXPECT_EQ(a["v3-finalize"].value("status", 0), 409) << a["v3-finalize"];
    EXPECT_EQ(a["v3-list"].value("status", 0), 200) << a["v3-list"];
    EXPECT_EQ(a["v3-list"].value("body", "").find("\"full\""), std::string::npos) << a["v3-list"];
    EXPECT_FALSE(fs::exists(store() / "artifacts/7/full/a"));  // removed to free the disk
    expectStillServing(a, "after-v3");
    // Only the small entry is in the cache's index; no part file is left.
    EXPECT_TRUE(fs::is_empty(store() / "cache/uploads"));
    std::size_t indexFiles = 0;
    for (const auto& e : fs::directory_iterator(store() / "cache/entries"))
        indexFiles += e.path().extension() == ".json";
    EXPECT_EQ(indexFiles, 2u);  // the two small entries
    expectNothingOutsideTheStorage();
}

}  // namespace
}  // namespace nixjail::executor
