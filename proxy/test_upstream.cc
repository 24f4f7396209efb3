// Test-only upstream servers; see test_upstream.h.
#include "proxy/test_upstream.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/unique_fd.h"

namespace nixjail::proxy::testing {

namespace fs = std::filesystem;

namespace {

std::string pathEnv() {
    const char* p = std::getenv("PATH");
    return std::string("PATH=") + (p ? p : "/usr/local/bin:/usr/bin:/bin") + ":/usr/sbin:/sbin";
}

void runOrThrow(const std::vector<std::string>& argv, const fs::path& scratch,
                const fs::path& cwd = {}) {
    std::vector<std::string> args = argv;
    if (!cwd.empty()) args = {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", cwd.string()};
    if (!cwd.empty()) args.insert(args.end(), argv.begin(), argv.end());
    ToolResult r = runTool(args,
                           {"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t",
                            "GIT_COMMITTER_EMAIL=t@t"},
                           scratch);
    if (r.exit_code != 0)
        throw base::Error("test setup: '" + argv[0] + " " + (argv.size() > 1 ? argv[1] : "") +
                          "' failed: " + r.err);
}

// Waits (inotify, no polling) until `file` exists in its directory.
void waitForFile(const fs::path& file, const base::ChildProcess& owner, const fs::path& log) {
    base::UniqueFd in(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!in) throw base::SysError("inotify_init1");
    if (inotify_add_watch(in.get(), file.parent_path().c_str(), IN_CREATE | IN_MOVED_TO) < 0) {
        throw base::SysError("inotify_add_watch on '" + file.parent_path().string() + "'");
    }
    for (int round = 0; round < 200 && !fs::exists(file); ++round) {
        pollfd fds[2] = {{in.get(), POLLIN, 0}, {owner.pidfd(), POLLIN, 0}};
        int n = ::poll(fds, 2, 100);  // wakes on a create event or on the server dying
        if (n > 0 && (fds[1].revents & POLLIN)) break;
        char buf[4096];
        while (::read(in.get(), buf, sizeof buf) > 0) {
        }
    }
    if (!fs::exists(file)) {
        std::string text = fs::exists(log) ? base::readFile(log) : "(no log)";
        throw base::Error("test server did not write '" + file.string() + "'; its log:\n" + text);
    }
}

std::string nginxConfig(const fs::path& d, std::uint16_t https_port, std::uint16_t http_port) {
    std::string real = TestUpstream::kRealToken;
    std::string dummy = TestUpstream::kDummyToken;
    std::string D = d.string();
    std::string common = R"(
        root )" + D + R"(/www;
        location = /whoami { return 200 "host=$host auth=$auth_state xtoken=$xtoken_state method=$request_method\n"; }
        location = /leak { add_header X-Leak ")" +
                         real + R"(" always; return 200 "echo )" + real + R"( done\n"; }
        location /upload/ { dav_methods PUT; create_full_put_path on; }
)";
    return R"(
daemon off;
master_process off;
pid )" + D +
           R"(/nginx.pid;
error_log )" +
           D + R"(/error.log info;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path )" +
           D + R"(/tmp/body;
    proxy_temp_path )" +
           D + R"(/tmp/proxy;
    fastcgi_temp_path )" +
           D + R"(/tmp/fastcgi;
    uwsgi_temp_path )" +
           D + R"(/tmp/uwsgi;
    scgi_temp_path )" +
           D + R"(/tmp/scgi;
    client_max_body_size 0;
    default_type application/octet-stream;
    map $http_authorization $auth_state {
        "token )" +
           real + R"(" real;
        "token )" +
           dummy + R"(" dummy;
        "" none;
        default other;
    }
    map $http_x_token $xtoken_state {
        ")" +
           real + R"(" real;
        ")" +
           dummy + R"(" dummy;
        "" none;
        default other;
    }
    server {
        listen 127.0.0.1:)" +
           std::to_string(https_port) + R"( ssl;
        ssl_certificate )" +
           D + R"(/server.pem;
        ssl_certificate_key )" +
           D + R"(/server.key;
)" + common +
           R"(
        location ~ ^/git(/.*)$ {
            auth_basic "git";
            auth_basic_user_file )" +
           D + R"(/htpasswd;
            fastcgi_pass unix:)" +
           D + R"(/fcgi.sock;
            fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
            fastcgi_param GIT_PROJECT_ROOT )" +
           D + R"(/repos;
            fastcgi_param GIT_HTTP_EXPORT_ALL 1;
            fastcgi_param PATH_INFO $1;
            fastcgi_param REMOTE_USER $remote_user;
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param CONTENT_TYPE $content_type;
            fastcgi_param CONTENT_LENGTH $content_length;
        }
    }
    server {
        listen 127.0.0.1:)" +
           std::to_string(http_port) + R"(;
)" + common +
           R"(
    }
}
)";
}

}  // namespace

ToolResult runTool(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                   const fs::path& scratch) {
    static int counter = 0;  // test-only: unique capture file names within this process
    int id = ++counter;
    fs::path out_path = scratch / ("tool-" + std::to_string(id) + ".out");
    fs::path err_path = scratch / ("tool-" + std::to_string(id) + ".err");
    base::UniqueFd out(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    base::UniqueFd err(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!out || !err)
        throw base::SysError("cannot create capture files in '" + scratch.string() + "'");
    base::SpawnOptions opts;
    opts.argv = argv;
    opts.env = env;
    opts.env.push_back(pathEnv());
    opts.env.push_back("HOME=" + scratch.string());
    opts.stdout_fd = out.get();
    opts.stderr_fd = err.get();
    auto child = base::ChildProcess::spawn(opts);
    ToolResult r;
    r.exit_code = child.wait().exitCode();
    r.out = base::readFile(out_path);
    r.err = base::readFile(err_path);
    return r;
}

std::uint16_t pickFreePort() {
    base::UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw base::SysError("cannot pick a free loopback port");
    }
    return ntohs(a.sin_port);
}

std::string missingTestTools() {
    for (const char* tool :
         {"/usr/sbin/nginx", "/usr/sbin/fcgiwrap", "/usr/lib/git-core/git-http-backend"}) {
        if (::access(tool, X_OK) != 0)
            return std::string("needs ") + tool + " (apt-get install nginx-light fcgiwrap git)";
    }
    return "";
}

TestUpstream::TestUpstream() : dir_("nixjail-proxy-upstream-") {
    const fs::path d = dir_.path();
    for (const char* sub : {"www", "www/upload", "tmp", "repos"}) fs::create_directories(d / sub);

    // Test CA and a server certificate for the names the tests use.
    runOrThrow({"openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                (d / "ca.key").string(),
                "-out",
                (d / "ca.pem").string(),
                "-days",
                "2",
                "-subj",
                "/CN=nixjail proxy test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign"},
               d);
    runOrThrow({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", (d / "server.key").string(), "-out", (d / "server.csr").string(),
                "-subj", "/CN=git.test"},
               d);
    base::writeFile(
        d / "server.ext",
        "subjectAltName=DNS:git.test,DNS:api.test,DNS:other.test,DNS:evil.test,IP:127.0.0.1\n"
        "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");
    runOrThrow(
        {"openssl", "x509", "-req", "-in", (d / "server.csr").string(), "-CA",
         (d / "ca.pem").string(), "-CAkey", (d / "ca.key").string(), "-CAcreateserial", "-out",
         (d / "server.pem").string(), "-days", "2", "-extfile", (d / "server.ext").string()},
        d);
    base::writeFile(d / "htpasswd", std::string("x-access-token:{PLAIN}") + kRealToken + "\n");
    base::writeFile(d / "www/index.html", "hello from nginx\n");

    // A repository with one commit, served by git-http-backend.
    runOrThrow({"git", "init", "-q", "--bare", "-b", "main", (d / "repos/repo.git").string()}, d);
    runOrThrow({"git", "init", "-q", "-b", "main", (d / "work").string()}, d);
    base::writeFile(d / "work/README", "proxied clone works\n");
    runOrThrow({"git", "add", "README"}, d, d / "work");
    runOrThrow({"git", "commit", "-q", "-m", "first"}, d, d / "work");
    runOrThrow({"git", "push", "-q", (d / "repos/repo.git").string(), "main"}, d, d / "work");

    // fcgiwrap serves the socket it finds on stdin, so the socket is listening before it starts.
    base::UniqueFd fcgi(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::string sock = (d / "fcgi.sock").string();
    if (sock.size() >= sizeof un.sun_path)
        throw base::Error("temp path too long for a unix socket: " + sock);
    std::strcpy(un.sun_path, sock.c_str());
    if (::bind(fcgi.get(), reinterpret_cast<sockaddr*>(&un), sizeof un) != 0 ||
        ::listen(fcgi.get(), 64) != 0) {
        throw base::SysError("cannot listen on '" + sock + "'");
    }
    base::SpawnOptions fo;
    fo.argv = {"/usr/sbin/fcgiwrap", "-c", "4"};
    fo.env = {pathEnv()};
    fo.stdin_fd = fcgi.get();
    fcgiwrap_ = base::ChildProcess::spawn(fo);

    https_port_ = pickFreePort();
    http_port_ = pickFreePort();
    base::writeFile(d / "nginx.conf", nginxConfig(d, https_port_, http_port_));
    base::SpawnOptions no;
    no.argv = {"/usr/sbin/nginx", "-p", d.string(), "-c", (d / "nginx.conf").string()};
    no.env = {pathEnv()};
    nginx_ = base::ChildProcess::spawn(no);
    // nginx writes its pid file after binding every listener.
    waitForFile(d / "nginx.pid", nginx_, d / "error.log");
}

}  // namespace nixjail::proxy::testing
