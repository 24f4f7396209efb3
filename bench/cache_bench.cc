// cache_bench: the workspace cache against its peers, measured side by side in one run.
// Checkouts of a generated repository (50,000 files, 500 commits) served over smart HTTP: our warm
// checkout (one snapshot) and cold checkout (mirror fetch + sparse checkout + snapshot) against
// `git clone --filter=blob:none --sparse` + `git sparse-checkout set` and a full libgit2 clone;
// then cold checkouts of the same repository from a local file:// URL against `git clone` of it;
// then job roots for a 10-path Nix closure, cold (built from the store) against warm (snapshot).
// Usage: cache_bench [--work-dir DIR] [--iterations N] [--local]   (root for btrfs and Nix; see
// README.md). --local runs only the file:// checkouts.
#include <fcntl.h>
#include <git2.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "tests/integration/btrfs_loop.h"
#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/closure.h"
#include "workspace-cache/git_mirror.h"
#include "workspace-cache/root_cache.h"
#include "workspace-cache/storage.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::ChildProcess;
using nixjail::base::UniqueFd;
using Clock = std::chrono::steady_clock;

constexpr int kTopDirs = 50, kSubDirs = 20, kFilesPerDir = 50;  // 50,000 files
constexpr int kCommits = 500;
constexpr int kFilesPerLaterCommit = 20;
const std::vector<std::string> kSparsePaths = {"d07", "d23"};  // 2,000 files, 4% of the tree
// Warm operations take milliseconds, so each round samples them several times for a stable median.
constexpr int kWarmPerRound = 5;

double msSince(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Series {
    std::string label;
    std::vector<double> ms;
    double min() const { return *std::min_element(ms.begin(), ms.end()); }
    double median() const {
        std::vector<double> v = ms;
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    }
    double max() const { return *std::max_element(ms.begin(), ms.end()); }
};

void printSeries(const Series& s, const std::string& note) {
    std::printf("  %-62s n=%zu  min %9.1f ms  median %9.1f ms  max %9.1f ms  %s\n", s.label.c_str(),
                s.ms.size(), s.min(), s.median(), s.max(), note.c_str());
}

void printRatio(const char* what, const Series& peer, const Series& ours) {
    std::printf("  ratio %-56s median %7.1fx  min %7.1fx\n", what, peer.median() / ours.median(),
                peer.min() / ours.min());
}

const std::vector<std::string>& toolEnv() {
    static const std::vector<std::string> env = {
        "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/nonexistent",
        "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0"};
    return env;
}

// Runs a tool to completion; throws with its stderr when it fails.
void run(const std::vector<std::string>& argv, const fs::path& scratch, const fs::path& cwd = {},
         int stdin_fd = -1) {
    fs::path err_path = scratch / "tool.err";
    UniqueFd err(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    auto child = ChildProcess::spawn({.argv = argv,
                                      .env = toolEnv(),
                                      .cwd = cwd,
                                      .stdin_fd = stdin_fd,
                                      .stdout_fd = devnull.get(),
                                      .stderr_fd = err.get()});
    if (child.wait().exitCode() != 0) {
        std::string cmd;
        for (const auto& a : argv) cmd += a + " ";
        throw nixjail::base::Error("'" + cmd + "' failed: " + nixjail::base::readFile(err_path));
    }
}

size_t countFiles(const fs::path& dir) {
    size_t n = 0;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::end(it); ++it) {
        if (it->path().filename() == ".git") {
            it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file()) ++n;
    }
    return n;
}

std::string fileContent(int top, int sub, int file, int revision) {
    // Unique per file and revision so that no two blobs are shared, as in a real source tree.
    std::string s = "// d" + std::to_string(top) + "/s" + std::to_string(sub) + "/f" +
                    std::to_string(file) + " revision " + std::to_string(revision) + "\n";
    unsigned x = static_cast<unsigned>(top * 1000003 + sub * 10007 + file * 101 + revision * 7);
    for (int line = 0; line < 8; ++line) {
        x = x * 1103515245u + 12345u;
        s += "int value_" + std::to_string(line) + " = " + std::to_string(x % 100000) + ";\n";
    }
    return s;
}

std::string filePath(int top, int sub, int file) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "d%02d/s%02d/f%03d.c", top, sub, file);
    return buf;
}

// Writes a fast-import stream: one commit adding every file, then commits changing a few each.
void writeFastImportStream(const fs::path& out_path) {
    std::ofstream out(out_path, std::ios::binary);
    auto commit = [&](int n) {
        std::string msg = "commit " + std::to_string(n) + "\n";
        out << "commit refs/heads/main\ncommitter Bench <bench@example.invalid> "
            << (1700000000 + n * 60) << " +0000\ndata " << msg.size() << "\n"
            << msg;
    };
    auto modify = [&](int t, int s, int f, int rev) {
        std::string data = fileContent(t, s, f, rev);
        out << "M 100644 inline " << filePath(t, s, f) << "\ndata " << data.size() << "\n"
            << data << "\n";
    };
    commit(1);
    for (int t = 0; t < kTopDirs; ++t)
        for (int s = 0; s < kSubDirs; ++s)
            for (int f = 0; f < kFilesPerDir; ++f) modify(t, s, f, 1);
    unsigned x = 42;
    for (int c = 2; c <= kCommits; ++c) {
        commit(c);
        for (int i = 0; i < kFilesPerLaterCommit; ++i) {
            x = x * 1103515245u + 12345u;
            modify((x >> 8) % kTopDirs, (x >> 16) % kSubDirs, (x >> 4) % kFilesPerDir, c);
        }
    }
    out << "done\n";
    if (!out) throw nixjail::base::Error("cannot write '" + out_path.string() + "'");
}

// The served bare repository under `work_dir`, generated once and reused by later runs.
fs::path ensureRepository(const fs::path& work_dir) {
    fs::path repo = work_dir / "srv" / "bench.git";
    fs::path done = work_dir / "srv" / "bench.git.done";
    if (fs::exists(done)) return repo;
    fs::remove_all(repo);
    fs::create_directories(repo);
    auto t0 = Clock::now();
    fs::path stream = work_dir / "fast-import.stream";
    writeFastImportStream(stream);
    run({"git", "init", "-q", "--bare", "-b", "main", repo.string()}, work_dir);
    UniqueFd in(::open(stream.c_str(), O_RDONLY | O_CLOEXEC));
    run({"git", "-C", repo.string(), "fast-import", "--quiet", "--done"}, work_dir, {}, in.get());
    // Packed with bitmaps as a forge keeps its repositories; filters allowed for partial clones.
    run({"git", "-C", repo.string(), "repack", "-a", "-d", "-q", "--write-bitmap-index"}, work_dir);
    run({"git", "-C", repo.string(), "config", "uploadpack.allowFilter", "true"}, work_dir);
    run({"git", "-C", repo.string(), "config", "uploadpack.allowAnySHA1InWant", "true"}, work_dir);
    fs::remove(stream);
    nixjail::base::writeFile(done, "");
    std::printf("generated %s (%d files, %d commits) in %.1f s\n", repo.c_str(),
                kTopDirs * kSubDirs * kFilesPerDir, kCommits, msSince(t0) / 1000);
    return repo;
}

std::string headCommit(const fs::path& repo, const fs::path& scratch) {
    run({"/bin/sh", "-c", "git -C \"$0\" rev-parse main > \"$1\"", repo.string(),
         (scratch / "head").string()},
        scratch);
    std::string s = nixjail::base::readFile(scratch / "head");
    return s.substr(0, s.find('\n'));
}

std::uint16_t freePort() {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw nixjail::base::SysError("cannot pick a free loopback port");
    return ntohs(a.sin_port);
}

// Waits until something accepts on 127.0.0.1:`port`, or `server` has died (then throws its log).
void waitForListener(std::uint16_t port, ChildProcess& server, const fs::path& log) {
    for (int attempt = 0; attempt < 500; ++attempt) {
        UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return;
        if (server.tryWait()) break;
        std::this_thread::sleep_for(
            std::chrono::milliseconds(20));  // no readiness event to wait on
    }
    throw nixjail::base::Error("server on port " + std::to_string(port) + " did not come up: " +
                               (fs::exists(log) ? nixjail::base::readFile(log) : "(no log)"));
}

// A forge's front end in miniature: nginx passing /<repo>.git/... to `git http-backend` through
// fcgiwrap, on 127.0.0.1. (tests/integration/git_http_server.py drops the Content-Encoding of
// requests, so git's gzipped lazy-fetch requests for many blobs fail against it.)
class GitHttpServer {
  public:
    explicit GitHttpServer(const fs::path& root) : dir_("nixjail-bench-http-") {
        const fs::path d = dir_.path();
        fs::create_directories(d / "tmp");
        std::string sock = (d / "fcgi.sock").string();
        UniqueFd fcgi(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        if (sock.size() >= sizeof un.sun_path) throw nixjail::base::Error("path too long: " + sock);
        std::strcpy(un.sun_path, sock.c_str());
        if (::bind(fcgi.get(), reinterpret_cast<sockaddr*>(&un), sizeof un) != 0 ||
            ::listen(fcgi.get(), 64) != 0)
            throw nixjail::base::SysError("cannot listen on '" + sock + "'");
        // fcgiwrap serves the listening socket it gets as stdin.
        fcgiwrap_ = ChildProcess::spawn(
            {.argv = {"/usr/sbin/fcgiwrap", "-c", "4"}, .env = toolEnv(), .stdin_fd = fcgi.get()});
        std::uint16_t port = freePort();
        const std::string D = d.string();
        nixjail::base::writeFile(d / "nginx.conf", R"(daemon off;
master_process off;
pid )" + D + R"(/nginx.pid;
error_log )" + D + R"(/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path )" + D + R"(/tmp/body;
    fastcgi_temp_path )" + D + R"(/tmp/fastcgi;
    proxy_temp_path )" + D + R"(/tmp/proxy;
    uwsgi_temp_path )" + D + R"(/tmp/uwsgi;
    scgi_temp_path )" + D + R"(/tmp/scgi;
    client_max_body_size 0;
    server {
        listen 127.0.0.1:)" + std::to_string(port) + R"(;
        location / {
            fastcgi_pass unix:)" + sock + R"(;
            fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
            fastcgi_param GIT_PROJECT_ROOT )" + root.string() +
                                                       R"(;
            fastcgi_param GIT_HTTP_EXPORT_ALL 1;
            fastcgi_param PATH_INFO $uri;
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param CONTENT_TYPE $content_type;
            fastcgi_param CONTENT_LENGTH $content_length;
            fastcgi_param REMOTE_ADDR $remote_addr;
        }
    }
}
)");
        nginx_ = ChildProcess::spawn(
            {.argv = {"/usr/sbin/nginx", "-p", D, "-c", D + "/nginx.conf"}, .env = toolEnv()});
        waitForListener(port, nginx_, d / "error.log");
        url_ = "http://127.0.0.1:" + std::to_string(port) + "/bench.git";
    }
    ~GitHttpServer() {
        for (ChildProcess* p : {&nginx_, &fcgiwrap_}) {
            if (!p->running()) continue;
            p->killTree(SIGTERM);
            p->wait();
        }
    }
    const std::string& url() const { return url_; }

  private:
    nixjail::base::TempDir dir_;
    ChildProcess fcgiwrap_;
    ChildProcess nginx_;
    std::string url_;
};

void checkGit(int rc, const char* what) {
    if (rc < 0) {
        const git_error* e = git_error_last();
        throw nixjail::base::Error(std::string(what) + ": " + (e ? e->message : "unknown error"));
    }
}

struct Place {
    std::unique_ptr<nixjail::testing::BtrfsLoopMount> mount;
    fs::path dir;  // where caches, workspaces and peer clones go
    std::string description;
};

Place choosePlace(const fs::path& work_dir) {
    Place p;
    std::string why = nixjail::testing::BtrfsLoopMount::unavailableReason();
    if (why.empty()) {
        try {
            p.mount = std::make_unique<nixjail::testing::BtrfsLoopMount>(6ull << 30);
            p.dir = p.mount->mountPoint();
            p.description = "btrfs on loop device " + p.mount->loopDevice();
            return p;
        } catch (const nixjail::base::Error& e) {
            why = e.what();
        }
    }
    p.dir = work_dir / "run";
    fs::remove_all(p.dir);
    fs::create_directories(p.dir);
    p.description =
        std::string(nixjail::cache::toString(nixjail::cache::detectStorageKind(p.dir))) + " in " +
        p.dir.string() + " (no btrfs loop: " + why + ")";
    return p;
}

void benchCheckouts(const fs::path& work_dir, const Place& place, int iterations) {
    using namespace nixjail::cache;
    for (const char* tool : {"/usr/sbin/nginx", "/usr/sbin/fcgiwrap", "/usr/bin/git",
                             "/usr/lib/git-core/git-http-backend"}) {
        if (::access(tool, X_OK) != 0) {
            std::printf(
                "\ncheckouts: SKIPPED: needs %s to serve the repository over smart HTTP "
                "(apt-get install nginx-light fcgiwrap git)\n",
                tool);
            return;
        }
    }
    fs::path repo = ensureRepository(work_dir);
    std::string commit = headCommit(repo, work_dir);
    GitHttpServer server(work_dir / "srv");
    const std::string& url = server.url();
    fs::path dir = place.dir / "checkouts";
    fs::create_directories(dir);
    std::unique_ptr<Storage> storage = detectStorage(dir);
    std::printf(
        "\ncheckouts: %s at %.12s, served by nginx + fcgiwrap + git "
        "http-backend (smart HTTP on loopback)\n  sparse paths:",
        url.c_str(), commit.c_str());
    for (const auto& p : kSparsePaths) std::printf(" %s", p.c_str());
    std::printf("; storage: %s, backend %s\n", place.description.c_str(),
                std::string(toString(storage->kind())).c_str());

    // The warm cache: a mirror holding the commit and the checkout entry built once.
    GitMirrors warm_mirrors(dir / "warm-git");
    CheckoutCache warm_cache(*storage, dir / "warm-entries", warm_mirrors);
    auto t0 = Clock::now();
    { warm_cache.checkout({url, commit, kSparsePaths, {}}, dir / "prime"); }
    std::printf("  (priming the warm cache took %.0f ms)\n", msSince(t0));
    // As actions/checkout leaves it by default: a shallow .git (depth 1) beside the files.
    const CheckoutRequest with_git{url, commit, kSparsePaths, {}, GitDirRequest{}};
    t0 = Clock::now();
    { warm_cache.checkout(with_git, dir / "prime-git"); }
    std::printf("  (priming the warm cache with .git took %.0f ms)\n", msSince(t0));

    Series warm{"(a) nixjail warm checkout (cached commit+paths: one snapshot)", {}};
    Series warm_git{"(a') the same with a depth-1 .git, as actions/checkout", {}};
    Series cold{"(b) nixjail cold checkout (empty cache: mirror fetch+checkout)", {}};
    Series cold_git{"(b') the same with a depth-1 .git", {}};
    Series peer{"(c) git clone --filter=blob:none --sparse + sparse-checkout set", {}};
    Series peer1{"(c') the same with --depth 1", {}};
    Series full{"(d) libgit2 full clone (git_clone, whole tree)", {}};
    std::map<std::string, size_t> files;
    git_libgit2_init();
    for (int i = 0; i < iterations; ++i) {
        fs::path ws = dir / ("job-" + std::to_string(i));
        for (int k = 0; k < kWarmPerRound; ++k) {
            auto t = Clock::now();
            CheckoutResult r = warm_cache.checkout({url, commit, kSparsePaths, {}}, ws);
            warm.ms.push_back(msSince(t));
            if (!r.hit || r.fetched) throw nixjail::base::Error("warm checkout missed the cache");
            files["a"] = countFiles(ws);
        }
        for (int k = 0; k < kWarmPerRound; ++k) {
            auto t = Clock::now();
            CheckoutResult r = warm_cache.checkout(with_git, ws);
            warm_git.ms.push_back(msSince(t));
            if (!r.hit || r.fetched) throw nixjail::base::Error("warm checkout with .git missed the cache");
            files["a'"] = countFiles(ws);
        }
        for (bool git_dir : {false, true}) {
            GitMirrors mirrors(dir / ("cold-git-" + std::to_string(i)));
            CheckoutCache cache(*storage, dir / ("cold-entries-" + std::to_string(i)), mirrors);
            auto t = Clock::now();
            CheckoutResult r = cache.checkout(git_dir ? with_git : CheckoutRequest{url, commit, kSparsePaths, {}}, ws);
            (git_dir ? cold_git : cold).ms.push_back(msSince(t));
            files[git_dir ? "b'" : "b"] = countFiles(ws);
            r.workspace.remove();
            cache.prune(0);
            mirrors.prune(0);
            fs::remove_all(dir / ("cold-git-" + std::to_string(i)));
            fs::remove_all(dir / ("cold-entries-" + std::to_string(i)));
        }
        for (int depth1 = 0; depth1 < 2; ++depth1) {
            std::vector<std::string> clone = {"git", "clone", "-q", "--filter=blob:none",
                                              "--sparse"};
            if (depth1) clone.push_back("--depth=1");
            clone.insert(clone.end(), {url, ws.string()});
            std::vector<std::string> set = {"git", "-C", ws.string(), "sparse-checkout", "set"};
            set.insert(set.end(), kSparsePaths.begin(), kSparsePaths.end());
            auto t = Clock::now();
            run(clone, work_dir);
            run(set, work_dir);
            (depth1 ? peer1 : peer).ms.push_back(msSince(t));
            files[depth1 ? "c'" : "c"] = countFiles(ws);
            fs::remove_all(ws);
        }
        {
            git_repository* out = nullptr;
            auto t = Clock::now();
            checkGit(git_clone(&out, url.c_str(), ws.c_str(), nullptr), "git_clone");
            git_repository_free(out);
            full.ms.push_back(msSince(t));
            files["d"] = countFiles(ws);
            fs::remove_all(ws);
        }
    }
    git_libgit2_shutdown();
    printSeries(warm, std::to_string(files["a"]) + " files, " +
                          std::string(toString(storage->kind())) + " snapshot");
    printSeries(warm_git, std::to_string(files["a'"]) + " files and .git");
    printSeries(cold, std::to_string(files["b"]) + " files");
    printSeries(cold_git, std::to_string(files["b'"]) + " files and .git");
    printSeries(peer, std::to_string(files["c"]) + " files");
    printSeries(peer1, std::to_string(files["c'"]) + " files");
    printSeries(full, std::to_string(files["d"]) + " files");
    printRatio("git sparse clone / nixjail warm (c/a)", peer, warm);
    printRatio("git sparse --depth 1 / nixjail warm (c'/a)", peer1, warm);
    printRatio("libgit2 full clone / nixjail warm (d/a)", full, warm);
    printRatio("git sparse clone / nixjail cold (c/b)", peer, cold);
    printRatio("libgit2 full clone / nixjail cold (d/b)", full, cold);
    printRatio("nixjail cold / nixjail warm (b/a)", cold, warm);
    printRatio("nixjail warm with .git / without (a'/a)", warm_git, warm);
    printRatio("nixjail cold with .git / without (b'/b)", cold_git, cold);
}

// Cold checkouts from a bare repository on this machine, addressed as file://: the mirror fetch
// (git's own transport; libgit2's local one packs the whole history itself, object by object)
// and the checkout, against `git clone` of the same URL with the same shape of result.
void benchLocalCheckouts(const fs::path& work_dir, const Place& place, int iterations) {
    using namespace nixjail::cache;
    if (::access("/usr/bin/git", X_OK) != 0) {
        std::printf("\nlocal checkouts: SKIPPED: needs /usr/bin/git (apt-get install git)\n");
        return;
    }
    fs::path repo = ensureRepository(work_dir);
    std::string commit = headCommit(repo, work_dir);
    const std::string url = "file://" + repo.string();
    fs::path dir = place.dir / "local-checkouts";
    fs::create_directories(dir);
    std::unique_ptr<Storage> storage = detectStorage(dir);
    std::printf("\nlocal checkouts: %s at %.12s\n  storage: %s, backend %s\n", url.c_str(),
                commit.c_str(), place.description.c_str(),
                std::string(toString(storage->kind())).c_str());

    Series fetch{"(g) nixjail mirror fetch, empty mirror (GitMirrors::fetch)", {}};
    Series mirror{"(h) git clone --mirror", {}};
    Series cold{"(i) nixjail cold checkout, whole tree (fetch+checkout+snap)", {}};
    Series clone{"(j) git clone (whole tree)", {}};
    Series cold_sparse{"(i') nixjail cold checkout of the sparse paths", {}};
    Series clone_sparse{"(j') git clone --sparse + sparse-checkout set", {}};
    std::map<std::string, size_t> files;
    for (int i = 0; i < iterations; ++i) {
        const std::string n = std::to_string(i);
        fs::path ws = dir / ("job-" + n);
        {
            GitMirrors mirrors(dir / ("fetch-git-" + n));
            auto t = Clock::now();
            mirrors.fetch(url);
            fetch.ms.push_back(msSince(t));
            if (mirrors.resolve(url, "main") != commit)
                throw nixjail::base::Error("the mirror's main is not " + commit);
            fs::remove_all(dir / ("fetch-git-" + n));
        }
        {
            auto t = Clock::now();
            run({"git", "clone", "-q", "--mirror", url, ws.string()}, work_dir);
            mirror.ms.push_back(msSince(t));
            fs::remove_all(ws);
        }
        for (bool sparse : {false, true}) {
            GitMirrors mirrors(dir / ("cold-git-" + n));
            CheckoutCache cache(*storage, dir / ("cold-entries-" + n), mirrors);
            CheckoutRequest request{
                url, commit, sparse ? kSparsePaths : std::vector<std::string>{}, {}};
            auto t = Clock::now();
            CheckoutResult r = cache.checkout(request, ws);
            (sparse ? cold_sparse : cold).ms.push_back(msSince(t));
            files[sparse ? "i'" : "i"] = countFiles(ws);
            r.workspace.remove();
            cache.prune(0);
            mirrors.prune(0);
            fs::remove_all(dir / ("cold-git-" + n));
            fs::remove_all(dir / ("cold-entries-" + n));
        }
        for (bool sparse : {false, true}) {
            std::vector<std::string> argv = {"git", "clone", "-q"};
            if (sparse) argv.push_back("--sparse");
            argv.insert(argv.end(), {url, ws.string()});
            std::vector<std::string> set = {"git", "-C", ws.string(), "sparse-checkout", "set"};
            set.insert(set.end(), kSparsePaths.begin(), kSparsePaths.end());
            auto t = Clock::now();
            run(argv, work_dir);
            if (sparse) run(set, work_dir);
            (sparse ? clone_sparse : clone).ms.push_back(msSince(t));
            files[sparse ? "j'" : "j"] = countFiles(ws);
            fs::remove_all(ws);
        }
    }
    printSeries(fetch, "");
    printSeries(mirror, "");
    printSeries(cold, std::to_string(files["i"]) + " files");
    printSeries(clone, std::to_string(files["j"]) + " files");
    printSeries(cold_sparse, std::to_string(files["i'"]) + " files");
    printSeries(clone_sparse, std::to_string(files["j'"]) + " files");
    printRatio("nixjail mirror fetch / git clone --mirror (g/h)", fetch, mirror);
    printRatio("nixjail cold / git clone, whole tree (i/j)", cold, clone);
    printRatio("nixjail cold / git clone, sparse (i'/j')", cold_sparse, clone_sparse);
}

std::string nixUnavailableReason() {
    if (::access("/usr/bin/nix-build", X_OK) != 0 && ::access("/usr/bin/nix-store", X_OK) != 0)
        return "no nix-build in /usr/bin (apt install nix-bin)";
    if (::geteuid() != 0 && ::access("/nix/var/nix/db", W_OK) != 0)
        return "needs a writable single-user Nix store (/nix/var/nix/db); run as root";
    return "";
}

void benchRoots(const fs::path& work_dir, const Place& place, int iterations) {
    using namespace nixjail::cache;
    std::string why = nixUnavailableReason();
    if (!why.empty()) {
        std::printf("\njob roots: SKIPPED: %s\n", why.c_str());
        return;
    }
    // The fixture set plus six more host tools: a closure of 10 store paths (with the libs).
    fs::path set = work_dir / "bench-packages.nix";
    nixjail::base::writeFile(
        set, "import " + std::string(NIXJAIL_FIXTURES_DIR) +
                 "/nix/default.nix { extraBins = { grep = [ \"/bin/grep\" ]; sed = [ \"/bin/sed\" "
                 "]; tar = [ \"/bin/tar\" ]; gzip = [ \"/bin/gzip\" ]; find = [ "
                 "\"/usr/bin/find\" ]; diff = [ \"/usr/bin/diff\" ]; }; }\n");
    NixTools tools{{}, {"NIX_CONFIG=substituters =\nsandbox = false\n"}};
    PackageResolver resolver(set, tools);
    auto t0 = Clock::now();
    auto roots = resolver.resolvePackages(
        {"bash", "coreutils", "curl", "grep", "sed", "tar", "gzip", "find", "diff"});
    double resolve_ms = msSince(t0);
    NixStoreReferenceSource source(tools);
    std::vector<std::string> closure = computeClosure(roots, source);

    fs::path dir = place.dir / "roots";
    fs::create_directories(dir);
    std::unique_ptr<Storage> storage = detectStorage(dir);
    std::printf(
        "\njob roots: closure of %zu store paths from tests/fixtures/nix (+6 host tools); "
        "storage: %s, backend %s\n",
        closure.size(), place.description.c_str(), std::string(toString(storage->kind())).c_str());
    std::printf("  (nix-build of the package set: %.0f ms; ~0 when already in the store)\n",
                resolve_ms);
    RootCache warm_cache(*storage, dir / "warm");
    { RootLease prime = warm_cache.acquire(closure); }
    Series warm{"(e) warm root: acquire (cached) + job snapshot", {}};
    Series cold{"(f) cold root: acquire on an empty cache (build) + job snapshot", {}};
    for (int i = 0; i < iterations; ++i) {
        fs::path job = dir / ("job-" + std::to_string(i));
        for (int k = 0; k < kWarmPerRound; ++k) {
            auto t = Clock::now();
            RootLease lease = warm_cache.acquire(closure);
            nixjail::cache::SubvolumeLease ws = lease.snapshotTo(job);
            warm.ms.push_back(msSince(t));
            if (!lease.hit()) throw nixjail::base::Error("warm root missed the cache");
        }
        {
            RootCache cache(*storage, dir / ("cold-" + std::to_string(i)));
            auto t = Clock::now();
            {
                RootLease lease = cache.acquire(closure);
                nixjail::cache::SubvolumeLease ws = lease.snapshotTo(job);
                cold.ms.push_back(msSince(t));
            }
            cache.prune(0);
            fs::remove_all(dir / ("cold-" + std::to_string(i)));
        }
    }
    printSeries(warm, "");
    printSeries(cold, "");
    printRatio("cold root / warm root (f/e)", cold, warm);
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    fs::path work_dir = "/var/tmp/nixjail-cache-bench";
    int iterations = 5;
    bool local_only = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--work-dir" && i + 1 < argc) {
            work_dir = argv[++i];
        } else if ((a == "--iterations" || a == "-n") && i + 1 < argc) {
            iterations = std::max(1, std::atoi(argv[++i]));
        } else if (a == "--local") {
            local_only = true;
        } else {
            std::fprintf(stderr,
                         "usage: cache_bench [--work-dir DIR] [--iterations N] [--local]\n"
                         "  DIR keeps the generated repository between runs (default %s)\n"
                         "  --local: only the cold checkouts from a file:// URL\n",
                         work_dir.c_str());
            return 2;
        }
    }
    try {
        fs::create_directories(work_dir);
        work_dir = fs::canonical(work_dir);
        Place place = choosePlace(work_dir);
        std::printf("cache_bench: %d iterations each, interleaved; wall time\n", iterations);
        if (!local_only) benchCheckouts(work_dir, place, iterations);
        benchLocalCheckouts(work_dir, place, iterations);
        if (!local_only) benchRoots(work_dir, place, iterations);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cache_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
