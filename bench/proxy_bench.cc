// proxy_bench: the per-job proxy against no proxy and against mitmproxy, measured in one run.
// Upstream is nginx over TLS on 127.0.0.1 (proxy/test_upstream.h); the client is libcurl
// (HTTP/1.1) in this process; each proxy runs in a process of its own so that its CPU time and
// RSS can be read from /proc. Both proxies allow everything and inject one credential.
// Usage: proxy_bench [--quick] [--only clients|download]
//        proxy_bench --serve-nixjail UPSTREAM_CA CA_OUT   (internal: runs our proxy)
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/process_cpu.h"
#include "proxy/kernel_random.h"
#include "proxy/proxy.h"
#include "proxy/test_upstream.h"
#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::ChildProcess;
using nixjail::base::Error;
using nixjail::proxy::testing::TestUpstream;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kBigBytes = 256ull << 20;

double msSince(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// One way to reach nginx: directly, or through a proxy process.
struct Target {
    std::string name;
    std::string proxy_url;  // empty: direct
    std::string ca_file;    // what the client trusts for https://127.0.0.1
    std::string auth;       // the Authorization header the client sends
    pid_t pid = -1;         // the proxy's process, -1 for direct
};

struct Usage {
    double cpu_s = 0;
    double rss_mib = 0;
    double hwm_mib = 0;
};

Usage readUsage(pid_t pid) {
    Usage u;
    if (pid <= 0) return u;
    u.cpu_s = nixjail::bench::processCpu(pid).self_s;
    std::string status = nixjail::base::readFile("/proc/" + std::to_string(pid) + "/status");
    auto kb = [&](const char* key) {
        size_t at = status.find(key);
        return at == std::string::npos ? 0.0
                                       : std::stod(status.substr(at + std::strlen(key))) / 1024;
    };
    u.rss_mib = kb("VmRSS:");
    u.hwm_mib = kb("VmHWM:");
    return u;
}

size_t discard(char*, size_t size, size_t n, void* counter) {
    *static_cast<std::uint64_t*>(counter) += size * n;
    return size * n;
}

size_t collect(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

// A libcurl easy handle set up for one target; `fresh` makes every request a new connection with
// a full TLS handshake (no connection reuse, no session resumption), as a new client process has.
class Request {
  public:
    Request(const Target& t, const std::string& url, bool fresh = false) : curl_(curl_easy_init()) {
        headers_ = curl_slist_append(nullptr, ("Authorization: " + t.auth).c_str());
        curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
        if (!t.proxy_url.empty()) curl_easy_setopt(curl_, CURLOPT_PROXY, t.proxy_url.c_str());
        curl_easy_setopt(curl_, CURLOPT_CAINFO, t.ca_file.c_str());
        curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
        curl_easy_setopt(curl_, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &bytes_);
        if (fresh) {
            curl_easy_setopt(curl_, CURLOPT_FRESH_CONNECT, 1L);
            curl_easy_setopt(curl_, CURLOPT_FORBID_REUSE, 1L);
            curl_easy_setopt(curl_, CURLOPT_SSL_SESSIONID_CACHE, 0L);
        }
    }
    ~Request() {
        curl_easy_cleanup(curl_);
        curl_slist_free_all(headers_);
    }
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    CURL* handle() const { return curl_; }
    std::uint64_t bytes() const { return bytes_; }
    void captureBody(std::string* out) {
        curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(curl_, CURLOPT_WRITEDATA, out);
    }
    // Performs the request; throws unless it completed with status 200.
    void perform() {
        CURLcode rc = curl_easy_perform(curl_);
        checkDone(rc);
    }
    void checkDone(CURLcode rc) const {
        long status = 0;
        curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != 200) {
            char* url = nullptr;
            curl_easy_getinfo(curl_, CURLINFO_EFFECTIVE_URL, &url);
            throw Error(std::string("request to '") + (url ? url : "?") + "' failed: " +
                        curl_easy_strerror(rc) + ", status " + std::to_string(status));
        }
    }

  private:
    CURL* curl_;
    curl_slist* headers_ = nullptr;
    std::uint64_t bytes_ = 0;
};

// Our proxy in this process (the --serve-nixjail mode): allow-all policy, one credential.
int serveNixjail(const std::string& upstream_ca, const std::string& ca_out) {
    namespace px = nixjail::proxy;
    // As nixjail-runner's main() does (NIXJAIL_BENCH_OPENSSL_DRBG=1: OpenSSL's own generator, to
    // compare the two).
    if (std::getenv("NIXJAIL_BENCH_OPENSSL_DRBG") == nullptr) px::useKernelRandomness();
    px::ProxyConfig c;
    auto policy = px::parsePolicy("rules:\n  - host: \"*\"\n", "bench-policy.yaml", "job");
    if (!policy) throw Error("bench policy did not parse");
    c.policy = std::move(*policy);
    px::Credential cred;
    cred.name = "bench-token";
    cred.value = nixjail::base::Secret(TestUpstream::kRealToken);
    cred.hosts = {"127.0.0.1"};
    cred.header_template = "Authorization: token {token}";
    cred.dummy = TestUpstream::kDummyToken;
    c.credentials.push_back(cred);
    c.extra_upstream_ca_file = upstream_ca;
    c.allow_host_upstreams = true;  // the bench upstream is nginx on 127.0.0.1
    std::uint64_t audited = 0;  // the runner keeps every record; counting stands in for that
    c.audit = [&audited](const px::AuditRecord&) { ++audited; };
    px::ProxyHandle proxy = px::startProxy(std::move(c));
    nixjail::base::writeFile(ca_out, proxy.caCertificatePem());
    std::printf("%u\n", proxy.port());
    std::fflush(stdout);
    char b;
    while (::read(0, &b, 1) > 0) {  // runs until the bench closes our stdin
    }
    return 0;
}

// A proxy under test, in its own process; stopped when destroyed.
class ProxyProcess {
  public:
    ProxyProcess() = default;
    ProxyProcess(nixjail::base::SpawnOptions opts, nixjail::base::Pipe control)
        : control_(std::move(control)) {
        child_ = ChildProcess::spawn(opts);
    }
    ProxyProcess(ProxyProcess&&) = default;
    ProxyProcess& operator=(ProxyProcess&&) = default;
    ~ProxyProcess() {
        control_.write.reset();  // our proxy exits on EOF
        if (child_.running()) {
            child_.killTree(SIGTERM);
            child_.wait();
        }
    }
    ChildProcess& child() { return child_; }

  private:
    nixjail::base::Pipe control_;
    ChildProcess child_;
};

std::string selfExe() { return fs::read_symlink("/proc/self/exe").string(); }

std::string pathEnv() {
    const char* p = std::getenv("PATH");
    return std::string("PATH=") + (p ? p : "/usr/local/bin:/usr/bin:/bin");
}

ProxyProcess startNixjail(const TestUpstream& up, const fs::path& scratch, Target& t) {
    nixjail::base::Pipe control = nixjail::base::Pipe::create();
    nixjail::base::Pipe out = nixjail::base::Pipe::create();
    t.ca_file = (scratch / "nixjail-ca.pem").string();
    nixjail::base::SpawnOptions opts{
        .argv = {selfExe(), "--serve-nixjail", up.caFile().string(), t.ca_file},
        .env = {pathEnv()},
        .stdin_fd = control.read.get(),
        .stdout_fd = out.write.get()};
    ProxyProcess p(std::move(opts), std::move(control));
    out.write.reset();
    std::string port;
    char c;
    while (::read(out.read.get(), &c, 1) == 1 && c != '\n') port += c;  // printed once listening
    if (port.empty()) throw Error("nixjail proxy did not start");
    t.proxy_url = "http://127.0.0.1:" + port;
    t.pid = p.child().pid();
    return p;
}

// Waits until 127.0.0.1:`port` accepts (mitmdump and squid have no readiness signal of their own).
void waitForListener(std::uint16_t port, ChildProcess& server, const fs::path& log) {
    for (int attempt = 0; attempt < 1500; ++attempt) {
        nixjail::base::UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return;
        if (server.tryWait()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw Error("the proxy did not listen on port " + std::to_string(port) + ": " +
                (fs::exists(log) ? nixjail::base::readFile(log) : "(no log)"));
}

std::optional<ProxyProcess> startMitmproxy(const TestUpstream& up, const fs::path& scratch,
                                           Target& t, std::string& why_not) {
    const char* mitmdump = "/usr/bin/mitmdump";
    if (::access(mitmdump, X_OK) != 0) {
        why_not = "mitmproxy is not installed (apt-get install mitmproxy); /usr/bin/mitmdump: " +
                  std::string(std::strerror(errno));
        return std::nullopt;
    }
    fs::path confdir = scratch / "mitmproxy";
    fs::create_directories(confdir);
    std::uint16_t port = nixjail::proxy::testing::pickFreePort();
    fs::path log = scratch / "mitmdump.log";
    nixjail::base::UniqueFd log_fd(
        ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    // Bodies over 1 MiB are streamed, as our proxy always does; no per-flow console output.
    ProxyProcess p({.argv = {mitmdump, "--listen-host", "127.0.0.1", "--listen-port",
                             std::to_string(port), "--set", "confdir=" + confdir.string(), "--set",
                             "ssl_verify_upstream_trusted_ca=" + up.caFile().string(), "--set",
                             "stream_large_bodies=1m", "--set", "flow_detail=0", "--set",
                             "termlog_verbosity=warn", "-s",
                             std::string(NIXJAIL_BENCH_DIR) + "/mitm_inject_header.py"},
                    .env = {pathEnv(), "HOME=" + scratch.string(), "PYTHONDONTWRITEBYTECODE=1",
                            "BENCH_INJECT_HOSTS=127.0.0.1",
                            std::string("BENCH_DUMMY=") + TestUpstream::kDummyToken,
                            std::string("BENCH_REAL=") + TestUpstream::kRealToken},
                    .stdout_fd = log_fd.get(),
                    .stderr_fd = log_fd.get()},
                   nixjail::base::Pipe::create());
    waitForListener(port, p.child(), log);
    t.proxy_url = "http://127.0.0.1:" + std::to_string(port);
    t.ca_file = (confdir / "mitmproxy-ca-cert.pem").string();
    t.pid = p.child().pid();
    return p;
}

// squid as a plain CONNECT proxy (no interception, no caching): the ceiling for a proxy that
// only tunnels. Its client talks TLS to nginx itself and sends the real token.
std::optional<ProxyProcess> startSquid(const fs::path& scratch, Target& t, std::string& why_not) {
    const char* squid = "/usr/sbin/squid";
    if (::access(squid, X_OK) != 0) {
        why_not = "squid is not installed (apt-get install squid); /usr/sbin/squid: " +
                  std::string(std::strerror(errno));
        return std::nullopt;
    }
    std::uint16_t port = nixjail::proxy::testing::pickFreePort();
    fs::path conf = scratch / "squid.conf";
    nixjail::base::writeFile(conf, "http_port 127.0.0.1:" + std::to_string(port) +
                                       "\n"
                                       "http_access allow all\n"
                                       "cache deny all\n"
                                       "cache_mem 0 MB\n"
                                       "access_log none\n"
                                       "cache_log /dev/null\n"
                                       "pid_filename none\n"
                                       "shutdown_lifetime 0 seconds\n");
    fs::path log = scratch / "squid.log";
    nixjail::base::UniqueFd log_fd(
        ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    // -N: one process in the foreground, so its CPU time and RSS are all in /proc/<pid>.
    ProxyProcess p({.argv = {squid, "-N", "-f", conf.string()},
                    .env = {pathEnv()},
                    .stdout_fd = log_fd.get(),
                    .stderr_fd = log_fd.get()},
                   nixjail::base::Pipe::create());
    waitForListener(port, p.child(), log);
    t.proxy_url = "http://127.0.0.1:" + std::to_string(port);
    t.pid = p.child().pid();
    return p;
}

// The credential check: nginx's /whoami says which token arrived.
void checkInjection(const Target& t, const std::string& base) {
    Request r(t, base + "/whoami");
    std::string body;
    r.captureBody(&body);
    try {
        r.perform();
    } catch (const Error& e) {
        throw Error(t.name + " (proxy '" + t.proxy_url + "'): " + e.what());
    }
    if (body.find("auth=real") == std::string::npos)
        throw Error(t.name + ": the credential was not injected; nginx saw: " + body);
}

struct Results {
    double lat_median = 0, lat_p99 = 0, newconn_median = 0, mib_s = 0, req_s = 0;
    double cpu_per_1000 = 0, clients_cpu_per_1000 = 0, newconn_cpu_per_1000 = 0, cpu_per_gib = 0;
    // The other two processes on the path, for the CPU budget: nginx and the curl client (this
    // process).
    double nginx_clients_cpu_per_1000 = 0, curl_clients_cpu_per_1000 = 0;
    double nginx_cpu_per_gib = 0, curl_cpu_per_gib = 0;
    double idle_rss_mib = 0, rss_mib = 0, hwm_mib = 0;
};

std::vector<double> sequential(const Target& t, const std::string& url, int n, bool fresh) {
    Request r(t, url, fresh);
    for (int i = 0; i < 20; ++i) r.perform();  // warm-up: connection, leaf certificate
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
        auto t0 = Clock::now();
        r.perform();
        ms.push_back(msSince(t0));
    }
    return ms;
}

double concurrent(const Target& t, const std::string& url, int clients, int per_client) {
    CURLM* multi = curl_multi_init();
    std::vector<std::unique_ptr<Request>> reqs;
    std::vector<int> left(static_cast<size_t>(clients), per_client);
    for (int i = 0; i < clients; ++i) {
        reqs.push_back(std::make_unique<Request>(t, url));
        curl_easy_setopt(reqs.back()->handle(), CURLOPT_PRIVATE, static_cast<long>(i));
        curl_multi_add_handle(multi, reqs.back()->handle());
    }
    auto t0 = Clock::now();
    int running = clients;
    while (running > 0) {
        curl_multi_perform(multi, &running);
        int queued = 0;
        while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
            if (m->msg != CURLMSG_DONE) continue;
            long i = 0;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &i);
            reqs[static_cast<size_t>(i)]->checkDone(m->data.result);
            curl_multi_remove_handle(multi, m->easy_handle);
            if (--left[static_cast<size_t>(i)] > 0) {
                curl_multi_add_handle(multi, m->easy_handle);  // reuses its connection
                ++running;
            }
        }
        if (running > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    }
    double s = msSince(t0) / 1000;
    curl_multi_cleanup(multi);
    return clients * per_client / s;
}

// Where the optional peers are in the target list (-1: not measured).
struct Columns {
    int mitm = -1;
    int squid = -1;
};

void printRow(const char* what, const std::vector<Results>& r, const Columns& cols,
              double Results::*field, const char* fmt) {
    std::printf("  %-36s", what);
    for (const auto& x : r) {
        if (x.*field == 0)
            std::printf("  %12s", "-");
        else
            std::printf(fmt, x.*field);
    }
    // Targets: direct, nixjail, then mitmproxy and squid when measured.
    double ours = r[1].*field, direct = r[0].*field;
    double mitm = cols.mitm >= 0 ? r[static_cast<size_t>(cols.mitm)].*field : 0;
    double squid = cols.squid >= 0 ? r[static_cast<size_t>(cols.squid)].*field : 0;
    auto ratio = [](double a, double b) {
        if (a != 0 && b != 0)
            std::printf("  %10.2fx", a / b);
        else
            std::printf("  %11s", "-");
    };
    ratio(mitm, ours);
    ratio(ours, direct);
    ratio(ours, squid);
    std::printf("\n");
}

// `only` empty: every measurement; "clients": the latency and 64-client runs; "download": the
// 256 MiB downloads (for profiling one phase with perf).
int runBench(bool quick, const std::string& only) {
    const int seq_n = quick ? 200 : 2000, fresh_n = quick ? 30 : 200, rounds = quick ? 1 : 3;
    const int clients = 64, per_client = quick ? 10 : 100;
    std::string missing = nixjail::proxy::testing::missingTestTools();
    if (!missing.empty()) {
        std::printf("proxy_bench: SKIPPED: %s\n", missing.c_str());
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    TestUpstream up;
    {
        // A sparse 256 MiB file: nginx reads zeros from the page cache, TLS still encrypts it all.
        nixjail::base::UniqueFd big(::open((up.wwwDir() / "big.bin").c_str(),
                                           O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!big || ::ftruncate(big.get(), static_cast<off_t>(kBigBytes)) != 0)
            throw nixjail::base::SysError("cannot create the 256 MiB download file");
        // Read once, so that the first download (direct, in the first round) does not pay for
        // filling the page cache.
        nixjail::base::UniqueFd in(::open((up.wwwDir() / "big.bin").c_str(), O_RDONLY | O_CLOEXEC));
        std::vector<char> buf(1 << 20);
        while (in && ::read(in.get(), buf.data(), buf.size()) > 0) {
        }
    }
    nixjail::base::TempDir scratch("nixjail-proxy-bench-");
    const std::string base = "https://127.0.0.1:" + std::to_string(up.httpsPort());
    const std::string real = std::string("token ") + TestUpstream::kRealToken;
    const std::string dummy = std::string("token ") + TestUpstream::kDummyToken;

    std::vector<Target> targets = {{"direct", "", up.caFile().string(), real, -1},
                                   {"nixjail", "", "", dummy, -1},
                                   {"mitmproxy", "", "", dummy, -1}};
    ProxyProcess ours = startNixjail(up, scratch.path(), targets[1]);
    std::string mitm_missing;
    std::optional<ProxyProcess> mitm;
    try {
        mitm = startMitmproxy(up, scratch.path(), targets[2], mitm_missing);
    } catch (const Error& e) {
        mitm_missing = std::string("mitmdump failed to start: ") + e.what();
    }
    if (!mitm) targets.pop_back();
    Columns cols;
    if (mitm) cols.mitm = 2;
    targets.push_back({"squid", "", up.caFile().string(), real, -1});
    std::string squid_missing;
    std::optional<ProxyProcess> squid;
    try {
        squid = startSquid(scratch.path(), targets.back(), squid_missing);
    } catch (const Error& e) {
        squid_missing = std::string("squid failed to start: ") + e.what();
    }
    if (squid)
        cols.squid = static_cast<int>(targets.size()) - 1;
    else
        targets.pop_back();
    for (const auto& t : targets) checkInjection(t, base);

    std::vector<Results> res(targets.size());
    for (size_t i = 0; i < targets.size(); ++i)
        res[i].idle_rss_mib = readUsage(targets[i].pid).rss_mib;
    const bool clients_phase = only.empty() || only == "clients";
    const bool download_phase = only.empty() || only == "download";
    // The 64-client runs and the downloads take turns between the targets, round after round,
    // so that a burst of load from elsewhere on the machine hits every target alike.
    std::vector<std::vector<double>> rounds_req_s(targets.size());
    for (size_t i = 0; clients_phase && i < targets.size(); ++i) {  // sequential latency
        const Target& t = targets[i];
        Usage u0 = readUsage(t.pid);
        auto lat = sequential(t, base + "/index.html", seq_n, false);
        res[i].lat_median = percentile(lat, 0.5);
        res[i].lat_p99 = percentile(lat, 0.99);
        res[i].cpu_per_1000 = (readUsage(t.pid).cpu_s - u0.cpu_s) * 1000 / (seq_n + 20);
    }
    const pid_t nginx_pid = std::stoi(nixjail::base::readFile(up.dir() / "nginx.pid"));
    const double per_req = 1000.0 / (clients * per_client) / rounds;
    for (int round = 0; clients_phase && round < rounds; ++round) {  // 64 clients
        for (size_t i = 0; i < targets.size(); ++i) {
            Usage u0 = readUsage(targets[i].pid), n0 = readUsage(nginx_pid),
                  c0 = readUsage(::getpid());
            rounds_req_s[i].push_back(
                concurrent(targets[i], base + "/index.html", clients, per_client));
            Usage u1 = readUsage(targets[i].pid), n1 = readUsage(nginx_pid),
                  c1 = readUsage(::getpid());
            res[i].clients_cpu_per_1000 += (u1.cpu_s - u0.cpu_s) * per_req;
            res[i].nginx_clients_cpu_per_1000 += (n1.cpu_s - n0.cpu_s) * per_req;
            res[i].curl_clients_cpu_per_1000 += (c1.cpu_s - c0.cpu_s) * per_req;
            res[i].rss_mib = u1.rss_mib;
        }
    }
    for (size_t i = 0; clients_phase && i < targets.size(); ++i)
        res[i].req_s = percentile(rounds_req_s[i], 0.5);
    for (size_t i = 0; only.empty() && i < targets.size(); ++i) {  // new connections
        Usage u0 = readUsage(targets[i].pid);
        auto ms = sequential(targets[i], base + "/index.html", fresh_n, true);
        Usage u1 = readUsage(targets[i].pid);
        res[i].newconn_median = percentile(ms, 0.5);
        res[i].newconn_cpu_per_1000 = (u1.cpu_s - u0.cpu_s) * 1000 / (fresh_n + 20);
    }
    std::vector<std::vector<double>> rounds_mib_s(targets.size());
    for (int round = 0; download_phase && round < rounds; ++round) {  // 256 MiB downloads
        for (size_t i = 0; i < targets.size(); ++i) {
            Usage u0 = readUsage(targets[i].pid), n0 = readUsage(nginx_pid),
                  c0 = readUsage(::getpid());
            Request r(targets[i], base + "/big.bin");
            auto t0 = Clock::now();
            r.perform();
            double s = msSince(t0) / 1000;
            if (r.bytes() != kBigBytes)
                throw Error(targets[i].name + ": downloaded " + std::to_string(r.bytes()) +
                            " bytes of big.bin, expected " + std::to_string(kBigBytes));
            rounds_mib_s[i].push_back(static_cast<double>(kBigBytes) / (1 << 20) / s);
            Usage u1 = readUsage(targets[i].pid), n1 = readUsage(nginx_pid),
                  c1 = readUsage(::getpid());
            res[i].cpu_per_gib += (u1.cpu_s - u0.cpu_s) * 4 / rounds;
            res[i].nginx_cpu_per_gib += (n1.cpu_s - n0.cpu_s) * 4 / rounds;
            res[i].curl_cpu_per_gib += (c1.cpu_s - c0.cpu_s) * 4 / rounds;
        }
    }
    for (size_t i = 0; download_phase && i < targets.size(); ++i) {
        res[i].mib_s = percentile(rounds_mib_s[i], 0.5);
        // VmHWM is synced lazily and can trail a VmRSS read earlier; the peak is at least that.
        res[i].hwm_mib = std::max(readUsage(targets[i].pid).hwm_mib, res[i].rss_mib);
    }

    std::printf(
        "proxy_bench: nginx over TLS on 127.0.0.1, client libcurl %s (HTTP/1.1, same "
        "process for all), each proxy in its own process\n",
        curl_version_info(CURLVERSION_NOW)->version);
    std::printf(
        "  nixjail and mitmproxy: allow-all policy, per-proxy CA, one credential injected (dummy "
        "-> real Authorization token, checked through nginx)\n");
    if (!mitm) std::printf("  mitmproxy: NOT MEASURED: %s\n", mitm_missing.c_str());
    if (squid)
        std::printf(
            "  squid: a plain CONNECT tunnel (no interception; its client sends the real "
            "token), the ceiling for a proxy\n");
    else
        std::printf("  squid: NOT MEASURED: %s\n", squid_missing.c_str());
    std::printf("  %-36s", "");
    for (const auto& t : targets) std::printf("  %12s", t.name.c_str());
    std::printf("  %11s  %11s  %11s\n", "mitm/ours", "ours/direct", "ours/squid");
    printRow("keep-alive latency median (ms)", res, cols, &Results::lat_median, "  %12.3f");
    printRow("keep-alive latency p99 (ms)", res, cols, &Results::lat_p99, "  %12.3f");
    printRow("new connection + TLS median (ms)", res, cols, &Results::newconn_median, "  %12.3f");
    printRow("256 MiB download (MiB/s, median)", res, cols, &Results::mib_s, "  %12.1f");
    printRow("64 keep-alive clients (req/s)", res, cols, &Results::req_s, "  %12.0f");
    printRow("proxy CPU s / 1000 sequential req", res, cols, &Results::cpu_per_1000, "  %12.3f");
    printRow("proxy CPU s / 1000 req of 64 clients", res, cols, &Results::clients_cpu_per_1000,
             "  %12.3f");
    printRow("proxy CPU s / 1000 new connections", res, cols, &Results::newconn_cpu_per_1000,
             "  %12.3f");
    printRow("proxy CPU s / GiB downloaded", res, cols, &Results::cpu_per_gib, "  %12.3f");
    printRow("nginx CPU s / 1000 req of 64 clients", res, cols,
             &Results::nginx_clients_cpu_per_1000, "  %12.3f");
    printRow("curl CPU s / 1000 req of 64 clients", res, cols, &Results::curl_clients_cpu_per_1000,
             "  %12.3f");
    printRow("nginx CPU s / GiB downloaded", res, cols, &Results::nginx_cpu_per_gib, "  %12.3f");
    printRow("curl CPU s / GiB downloaded", res, cols, &Results::curl_cpu_per_gib, "  %12.3f");
    printRow("proxy RSS idle after 1 req (MiB)", res, cols, &Results::idle_rss_mib, "  %12.1f");
    printRow("proxy RSS after 64 clients (MiB)", res, cols, &Results::rss_mib, "  %12.1f");
    printRow("proxy peak RSS (MiB)", res, cols, &Results::hwm_mib, "  %12.1f");
    auto printRounds = [&](const char* what, const std::vector<std::vector<double>>& v) {
        if (v[0].empty()) return;
        std::printf("  %s ours/direct by round:", what);
        for (size_t r = 0; r < v[0].size(); ++r) std::printf(" %.2fx", v[1][r] / v[0][r]);
        if (cols.squid >= 0) {
            const auto& sq = v[static_cast<size_t>(cols.squid)];
            std::printf("; squid/direct:");
            for (size_t r = 0; r < v[0].size(); ++r) std::printf(" %.2fx", sq[r] / v[0][r]);
        }
        std::printf("\n");
    };
    printRounds("256 MiB download", rounds_mib_s);
    printRounds("64 keep-alive clients", rounds_req_s);
    std::printf(
        "  (requests: %d sequential keep-alive, %d new connections, %d rounds of %d x %d "
        "concurrent and of 256 MiB, medians; for MiB/s and req/s higher is better)\n",
        seq_n, fresh_n, rounds, clients, per_client);
    curl_global_cleanup();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    try {
        if (argc == 4 && std::string(argv[1]) == "--serve-nixjail")
            return serveNixjail(argv[2], argv[3]);
        bool quick = false;
        std::string only;
        for (int i = 1; i < argc; ++i) {
            std::string arg = argv[i];
            if (arg == "--quick") {
                quick = true;
            } else if (arg == "--only" && i + 1 < argc &&
                       (std::string(argv[i + 1]) == "clients" ||
                        std::string(argv[i + 1]) == "download")) {
                only = argv[++i];
            } else {
                std::fprintf(stderr, "usage: proxy_bench [--quick] [--only clients|download]\n");
                return 2;
            }
        }
        return runBench(quick, only);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "proxy_bench: %s\n", e.what());
        return 1;
    }
}
