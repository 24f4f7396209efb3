// CacheServer over real loopback sockets: the @actions/cache v1 sequence from a Python client
// (tests/cache_client.py), authorisation and scopes, eviction, large uploads, stop mid-upload,
// and malformed requests.
#include "runner/cache_server/cache_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"

namespace nixjail::runner::cache_server {
namespace {

namespace fs = std::filesystem;
using base::Secret;

const Secret kToken{"token-of-run-1"};

base::UniqueFd connectTo(std::uint16_t port) {
    base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        ADD_FAILURE() << "connect";
    return fd;
}

void writeAll(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        ASSERT_GT(n, 0);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Sends raw bytes and reads until the server closes (requests say Connection: close).
std::string raw(std::uint16_t port, std::string_view request) {
    auto fd = connectTo(port);
    writeAll(fd.get(), request);
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    return out;
}

int statusOf(const std::string& response) {
    return response.size() > 12 ? std::stoi(response.substr(9, 3)) : -1;
}

std::string bodyOf(const std::string& response) {
    auto p = response.find("\r\n\r\n");
    return p == std::string::npos ? "" : response.substr(p + 4);
}

std::string get(std::uint16_t port, const std::string& target,
                const std::string& token = kToken.reveal(), const std::string& extra = "") {
    return raw(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                         token + "\r\n" + extra + "Connection: close\r\n\r\n");
}

std::string randomBytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(gen());
    return s;
}

struct ClientRun {
    int exit_code;
    std::string out;
};

struct CacheServerTest : ::testing::Test {
    base::TempDir tmp{"nixjail-cacheserver-"};
    fs::path store = tmp.path() / "store";
    std::unique_ptr<CacheServer> server;

    void SetUp() override { start(); }

    void start(std::uint64_t budget = kDefaultCacheBudget) {
        server.reset();
        server =
            std::make_unique<CacheServer>(CacheServerConfig{.dir = store, .budget_bytes = budget});
        server->authorize(kToken, "owner/repo");
    }

    // Starts the Python client; `args` follow the command. Its output goes to `outPath`.
    base::ChildProcess spawnClient(std::vector<std::string> args, const fs::path& outPath,
                                   const std::string& token = kToken.reveal()) {
        std::vector<std::string> argv{"python3", NIXJAIL_CACHE_CLIENT};
        argv.insert(argv.end(), args.begin(), args.end());
        base::writeFile(outPath, "");
        base::UniqueFd out(::open(outPath.c_str(), O_WRONLY | O_CLOEXEC));
        return base::ChildProcess::spawn(
            {.argv = argv,
             .env = {"PATH=/usr/bin:/bin", "ACTIONS_CACHE_URL=" + server->baseUrl(),
                     "ACTIONS_RUNTIME_TOKEN=" + token},
             .stdout_fd = out.get(),
             .stderr_fd = out.get()});
    }

    ClientRun client(std::vector<std::string> args, const std::string& token = kToken.reveal()) {
        auto outPath = tmp.path() / "client.out";
        int code = spawnClient(std::move(args), outPath, token).wait().exitCode();
        return {code, base::readFile(outPath)};
    }

    ClientRun save(const std::string& key, const std::string& data,
                   std::vector<std::string> extra = {}, const std::string& version = "v1",
                   const std::string& token = kToken.reveal()) {
        auto file = tmp.path() / ("in-" + key);
        base::writeFile(file, data);
        std::vector<std::string> args{"save",  "--key",  key,          "--version",
                                      version, "--file", file.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return client(args, token);
    }

    // Returns the restored bytes, or nullopt on a miss.
    std::optional<std::string> restore(const std::string& keys, const std::string& version = "v1",
                                       const std::string& token = kToken.reveal()) {
        auto out = tmp.path() / "restored";
        fs::remove(out);
        auto r =
            client({"restore", "--keys", keys, "--version", version, "--out", out.string()}, token);
        if (r.exit_code == 2) return std::nullopt;
        EXPECT_EQ(r.exit_code, 0) << r.out;
        return base::readFile(out);
    }
};

TEST_F(CacheServerTest, SaveThenRestoreByExactKeyAndRestoreKeyWithTheV1Client) {
    const auto data = randomBytes(3 << 20, 1);
    auto r = save("deps-linux-abc123", data, {"--chunk-size", "524288", "--shuffle"});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(restore("deps-linux-abc123"), data);
    EXPECT_EQ(restore("deps-linux-zzz,deps-linux-"), data);  // a restore-key as prefix
    EXPECT_FALSE(restore("deps-mac-"));
    auto c = server->counters();
    EXPECT_EQ(c.hits, 2u);
    EXPECT_EQ(c.misses, 1u);
    EXPECT_EQ(c.bytes_uploaded, data.size());
    EXPECT_EQ(c.bytes_downloaded, 2 * data.size());
    EXPECT_EQ(c.entries_committed, 1u);
    // The same, for the one token (one job) that did all of it.
    auto u = server->usage(kToken);
    EXPECT_EQ(u.hits, 2u);
    EXPECT_EQ(u.misses, 1u);
    EXPECT_EQ(u.bytes_saved, data.size());
    EXPECT_EQ(u.bytes_restored, 2 * data.size());
    server->revoke(kToken);
    EXPECT_EQ(server->usage(kToken).hits, 0u);
}

TEST_F(CacheServerTest, ChunkedTransferEncodingUploadsLikeNodeDoes) {
    const auto data = randomBytes(300000, 2);
    ASSERT_EQ(save("chunked", data, {"--chunk-size", "100000", "--chunked"}).exit_code, 0);
    EXPECT_EQ(restore("chunked"), data);
}

TEST_F(CacheServerTest, MissIs204) {
    auto resp = get(server->port(), "/_apis/artifactcache/cache?keys=nothing&version=v1");
    EXPECT_EQ(statusOf(resp), 204) << resp;
}

TEST_F(CacheServerTest, WrongOrMissingTokenIs401) {
    EXPECT_EQ(
        statusOf(get(server->port(), "/_apis/artifactcache/cache?keys=k&version=v1", "wrong")),
        401);
    auto resp = raw(server->port(),
                    "GET /_apis/artifactcache/cache?keys=k&version=v1 HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n");
    EXPECT_EQ(statusOf(resp), 401);
    EXPECT_EQ(save("k", "data", {}, "v1", "wrong").exit_code, 1);
    server->revoke(kToken);
    EXPECT_EQ(statusOf(get(server->port(), "/_apis/artifactcache/cache?keys=k&version=v1")), 401);
}

TEST_F(CacheServerTest, AnotherScopeCannotSeeOrDownloadEntries) {
    ASSERT_EQ(save("shared-key", "secret bytes").exit_code, 0);
    const Secret other{"token-of-other-repo"};
    server->authorize(other, "someone/else");
    EXPECT_FALSE(restore("shared-key", "v1", other.reveal()));
    EXPECT_FALSE(restore("shared-", "v1", other.reveal()));
    // The archive URL without its signature is refused to the other repository's token.
    auto hit = nlohmann::json::parse(
        bodyOf(get(server->port(), "/_apis/artifactcache/cache?keys=shared-key&version=v1")));
    std::string location = hit.at("archiveLocation");
    std::string path = location.substr(location.find("/_apis"));
    std::string unsigned_path = path.substr(0, path.find('?'));
    EXPECT_EQ(statusOf(get(server->port(), unsigned_path, other.reveal())), 401);
    EXPECT_EQ(statusOf(get(server->port(), unsigned_path + "?sig=00", "none")), 401);
    EXPECT_EQ(statusOf(get(server->port(), unsigned_path, kToken.reveal())), 200);
    EXPECT_EQ(bodyOf(get(server->port(), path, "none")), "secret bytes");
}

TEST_F(CacheServerTest, BranchScopesReadTheirOwnThenTheDefaultBranchAndWriteOnlyTheirOwn) {
    const Secret mainToken{"token-main"}, featureToken{"token-feature"};
    server->authorize(mainToken, "o/r@refs/heads/main");
    server->authorize(featureToken, "o/r@refs/heads/feature",
                      {"o/r@refs/heads/feature", "o/r@refs/heads/main"});
    ASSERT_EQ(save("deps", "from main", {}, "v1", mainToken.reveal()).exit_code, 0);
    EXPECT_EQ(restore("deps", "v1", featureToken.reveal()), "from main");
    // The feature branch's own entry of the same key shadows main's for it, and only for it.
    ASSERT_EQ(save("deps", "from feature", {}, "v1", featureToken.reveal()).exit_code, 0);
    EXPECT_EQ(restore("deps", "v1", featureToken.reveal()), "from feature");
    EXPECT_EQ(restore("deps", "v1", mainToken.reveal()), "from main");
    EXPECT_FALSE(restore("deps"));  // "owner/repo" is yet another scope
}

TEST_F(CacheServerTest, VersionMismatchIsAMiss) {
    ASSERT_EQ(save("k", "abc", {}, "version-a").exit_code, 0);
    EXPECT_FALSE(restore("k", "version-b"));
    EXPECT_EQ(restore("k", "version-a"), "abc");
}

TEST_F(CacheServerTest, DuplicateReservationIs409) {
    ASSERT_EQ(save("k", "abc").exit_code, 0);
    auto r = save("k", "abc");
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_NE(r.out.find("already exists"), std::string::npos) << r.out;
}

TEST_F(CacheServerTest, BudgetEvictsTheLeastRecentlyUsedAndRefusesOversizedEntries) {
    start(1 << 20);
    ASSERT_EQ(save("a", randomBytes(400000, 3)).exit_code, 0);
    ASSERT_EQ(save("b", randomBytes(400000, 4)).exit_code, 0);
    ASSERT_TRUE(restore("a"));
    ASSERT_EQ(save("c", randomBytes(400000, 5)).exit_code, 0);
    EXPECT_TRUE(restore("a"));
    EXPECT_FALSE(restore("b"));
    EXPECT_TRUE(restore("c"));
    auto big = save("huge", randomBytes(2 << 20, 6));
    EXPECT_EQ(big.exit_code, 1);
    EXPECT_NE(big.out.find("exceeds the cache budget"), std::string::npos) << big.out;
}

TEST_F(CacheServerTest, TwentyMiBUploadStreamsInChunks) {
    const auto data = randomBytes(20 << 20, 7);
    auto r = save("big", data, {"--chunk-size", std::to_string(4 << 20), "--shuffle"});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(restore("big"), data);
    // Range requests (the concurrent downloader of newer @actions/cache) get exactly their slice.
    auto hit = nlohmann::json::parse(
        bodyOf(get(server->port(), "/_apis/artifactcache/cache?keys=big&version=v1")));
    std::string location = hit.at("archiveLocation");
    auto part = get(server->port(), location.substr(location.find("/_apis")), "",
                    "Range: bytes=1000-1999\r\n");
    EXPECT_EQ(statusOf(part), 206);
    EXPECT_EQ(bodyOf(part), data.substr(1000, 1000));
    auto head = raw(server->port(), "HEAD " + location.substr(location.find("/_apis")) +
                                        " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(statusOf(head), 200);
    EXPECT_NE(head.find("Content-Length: " + std::to_string(data.size())), std::string::npos)
        << head;
    EXPECT_EQ(bodyOf(head), "");
}

TEST_F(CacheServerTest, StopDuringAnUploadLeavesNoHalfEntry) {
    auto reserve =
        raw(server->port(),
            "POST /_apis/artifactcache/caches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                kToken.reveal() + "\r\nContent-Length: 43\r\nConnection: close\r\n\r\n" +
                R"({"key":"half","version":"v1","cacheSize":1})");
    ASSERT_EQ(statusOf(reserve), 200) << reserve;
    int id = nlohmann::json::parse(bodyOf(reserve)).at("cacheId");
    auto fd = connectTo(server->port());
    writeAll(fd.get(), "PATCH /_apis/artifactcache/caches/" + std::to_string(id) +
                           " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken.reveal() +
                           "\r\nContent-Range: bytes 0-0/*\r\nContent-Length: 1\r\n\r\n");
    // The reservation's part file exists; the chunk's byte never arrives.
    ASSERT_FALSE(fs::is_empty(store / "uploads"));
    server.reset();
    EXPECT_TRUE(fs::is_empty(store / "uploads"));
    start();
    EXPECT_FALSE(restore("half"));
    ASSERT_EQ(save("half", "x").exit_code, 0);
    EXPECT_EQ(restore("half"), "x");
}

TEST_F(CacheServerTest, MalformedRequestsGet400AndTheServerKeepsServing) {
    const std::uint16_t port = server->port();
    const std::string auth = "Authorization: Bearer " + kToken.reveal() + "\r\n";
    EXPECT_EQ(statusOf(raw(port, "NOT HTTP AT ALL\r\n\r\n")), 400);
    EXPECT_EQ(
        statusOf(raw(port,
                     "GET /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")),
        400);
    EXPECT_EQ(statusOf(get(port, "/_apis/artifactcache/cache?version=v1")), 400);
    EXPECT_EQ(statusOf(raw(port, "POST /_apis/artifactcache/caches HTTP/1.1\r\nHost: x\r\n" + auth +
                                     "Content-Length: 5\r\nConnection: close\r\n\r\n{nope")),
              400);
    auto reserve = raw(port, "POST /_apis/artifactcache/caches HTTP/1.1\r\nHost: x\r\n" + auth +
                                 "Content-Length: 26\r\nConnection: close\r\n\r\n" +
                                 R"({"key":"m","version":"v1"})");
    ASSERT_EQ(statusOf(reserve), 200) << reserve;
    const std::string patch =
        "PATCH /_apis/artifactcache/caches/" +
        std::to_string(nlohmann::json::parse(bodyOf(reserve)).at("cacheId").get<int>()) +
        " HTTP/1.1\r\nHost: x\r\n" + auth;
    EXPECT_EQ(statusOf(raw(port, patch + "Content-Range: nonsense\r\nContent-Length: 1\r\n\r\nx")),
              400);
    EXPECT_EQ(statusOf(raw(port, patch + "Content-Range: bytes 0-9/*\r\nContent-Length: 3\r\n"
                                         "Connection: close\r\n\r\nabc")),
              400);
    EXPECT_EQ(
        statusOf(
            raw(port,
                patch + "Content-Range: bytes 0-2/*\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")),
        400);
    EXPECT_EQ(
        statusOf(raw(port, "POST /_apis/artifactcache/caches/999 HTTP/1.1\r\nHost: x\r\n" + auth +
                               "Content-Length: 10\r\nConnection: close\r\n\r\n{\"size\":1}")),
        404);
    EXPECT_EQ(statusOf(raw(port, std::string(80000, 'A'))), 431);
    ASSERT_EQ(save("after", "still serving").exit_code, 0);
    EXPECT_EQ(restore("after"), "still serving");
}

TEST_F(CacheServerTest, ConcurrentUploadsStayApartAndOneKeyHasOneWriter) {
    std::vector<std::string> data;
    std::vector<base::ChildProcess> clients;
    for (int i = 0; i < 6; ++i) {
        // Clients 4 and 5 race for the same key.
        const std::string key = i < 4 ? "parallel-" + std::to_string(i) : "contended";
        data.push_back(randomBytes(1 << 20, 100 + static_cast<unsigned>(i)));
        auto in = tmp.path() / ("parallel-in-" + std::to_string(i));
        base::writeFile(in, data.back());
        clients.push_back(spawnClient({"save", "--key", key, "--version", "v1", "--file",
                                       in.string(), "--chunk-size", "131072", "--shuffle"},
                                      tmp.path() / ("parallel-out-" + std::to_string(i))));
    }
    std::vector<int> codes;
    for (auto& c : clients) codes.push_back(c.wait().exitCode());
    for (int i = 0; i < 4; ++i) {
        ASSERT_EQ(codes[static_cast<std::size_t>(i)], 0)
            << base::readFile(tmp.path() / ("parallel-out-" + std::to_string(i)));
        EXPECT_EQ(restore("parallel-" + std::to_string(i)), data[static_cast<std::size_t>(i)]);
    }
    // Exactly one writer wins the contended key; the loser is told 409 and the entry is the
    // winner's.
    ASSERT_EQ(std::count(codes.begin() + 4, codes.end(), 0), 1);
    ASSERT_EQ(std::count(codes.begin() + 4, codes.end(), 3), 1);
    EXPECT_EQ(restore("contended"), codes[4] == 0 ? data[4] : data[5]);
    EXPECT_TRUE(fs::is_empty(store / "uploads"));
}

TEST_F(CacheServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
    auto fd = connectTo(server->port());
    const std::string req =
        "GET /_apis/artifactcache/cache?keys=a&version=v HTTP/1.1\r\nHost: x\r\n"
        "Authorization: Bearer " +
        kToken.reveal() + "\r\n\r\n";
    writeAll(fd.get(), req + req + req.substr(0, req.size() - 2) + "Connection: close\r\n\r\n");
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    std::size_t count = 0;
    for (auto p = out.find("HTTP/1.1 204"); p != std::string::npos;
         p = out.find("HTTP/1.1 204", p + 1))
        ++count;
    EXPECT_EQ(count, 3u) << out;
}

// Reads what the server sends within 10 s up to the end of a head (no body expected yet).
std::string readHeadWithin10s(int fd) {
    std::string out;
    char buf[4096];
    while (out.find("\r\n\r\n") == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1) break;
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// curl (and other clients) send "Expect: 100-continue" before a larger body and wait for
// "100 Continue" (curl gives up waiting after 1 s per request): the server sends it when the
// handler reads the body, and not when it answers without reading (a wrong token).
TEST_F(CacheServerTest, Expect100ContinueGetsContinueOnlyWhenTheBodyIsWanted) {
    const std::string body = R"({"key":"k","version":"v"})";
    auto head = [&](const std::string& token) {
        return "POST /_apis/artifactcache/caches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
               token + "\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) +
               "\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n";
    };
    auto fd = connectTo(server->port());
    writeAll(fd.get(), head(kToken.reveal()));
    EXPECT_EQ(readHeadWithin10s(fd.get()), "HTTP/1.1 100 Continue\r\n\r\n");
    writeAll(fd.get(), body);
    const std::string answer = readHeadWithin10s(fd.get());
    EXPECT_EQ(statusOf(answer), 200) << answer;

    auto denied = connectTo(server->port());
    writeAll(denied.get(), head("wrong"));
    const std::string refused = readHeadWithin10s(denied.get());
    EXPECT_EQ(statusOf(refused), 401) << refused;
    EXPECT_EQ(refused.find("100 Continue"), std::string::npos) << refused;
}

}  // namespace
}  // namespace nixjail::runner::cache_server
