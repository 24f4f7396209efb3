// Remote actions through the git command line, cached per (repository, ref).
#include "runner/actions/action_fetch.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <regex>

#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"

namespace nixjail::runner::actions {

namespace fs = std::filesystem;

ActionRef parseActionRef(const std::string& uses) {
    static const std::regex kRef(R"(([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)((?:/[^@]+)?)@(.+))");
    std::smatch m;
    if (!std::regex_match(uses, m, kRef)) {
        throw base::Error("cannot understand 'uses: " + uses +
                          "'; expected owner/repo@ref, owner/repo/path@ref or ./local/path");
    }
    ActionRef r{m[1], m[2], m[3], m[4]};
    if (!r.path.empty()) r.path = r.path.substr(1);
    if (r.path.find("..") != std::string::npos || r.ref.find("..") != std::string::npos) {
        throw base::Error("'uses: " + uses + "' must not contain '..'");
    }
    return r;
}

namespace {
void git(const std::vector<std::string>& args, const fs::path& cwd, const std::string& what) {
    std::vector<std::string> argv{"git"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env{"PATH=/usr/local/bin:/usr/bin:/bin", "GIT_TERMINAL_PROMPT=0",
                                 "HOME=" + cwd.string(), "GIT_CONFIG_NOSYSTEM=1"};
    base::Pipe err = base::Pipe::create();
    auto child = base::ChildProcess::spawn({.argv = argv, .env = env, .cwd = cwd, .stderr_fd = err.write.get()});
    err.write.reset();
    std::string msg;
    char buf[4096];
    for (ssize_t n; (n = ::read(err.read.get(), buf, sizeof buf)) > 0;) msg.append(buf, static_cast<size_t>(n));
    auto st = child.wait();
    if (st.exitCode() != 0) {
        while (!msg.empty() && msg.back() == '\n') msg.pop_back();
        throw base::Error(what + " failed: " + msg);
    }
}
}  // namespace

fs::path fetchAction(const ActionRef& ref, const std::string& base_url, const fs::path& cache_dir) {
    fs::create_directories(cache_dir);
    const fs::path dest = cache_dir / ref.owner / (ref.repo + "@" + ref.ref);
    fs::create_directories(dest.parent_path());
    const fs::path lockPath = dest.string() + ".lock";
    base::UniqueFd lock(::open(lockPath.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    if (!lock) throw base::SysError("opening lock '" + lockPath.string() + "'");
    if (::flock(lock.get(), LOCK_EX) != 0) throw base::SysError("locking '" + lockPath.string() + "'");
    if (!fs::exists(dest / ".nixjail-complete")) {
        std::error_code ec;
        fs::remove_all(dest, ec);
        base::TempDir tmp(".fetch-", dest.parent_path());
        std::string url = base_url;
        while (!url.empty() && url.back() == '/') url.pop_back();
        url += "/" + ref.owner + "/" + ref.repo;
        const std::string what = "fetching action " + ref.repository() + "@" + ref.ref + " from " + url;
        git({"init", "-q"}, tmp.path(), what);
        git({"fetch", "-q", "--depth", "1", url, ref.ref}, tmp.path(), what);
        git({"-c", "advice.detachedHead=false", "checkout", "-q", "FETCH_HEAD"}, tmp.path(), what);
        fs::remove_all(tmp.path() / ".git");
        { base::UniqueFd f(::open((tmp.path() / ".nixjail-complete").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)); }
        fs::rename(tmp.path(), dest);
        tmp.keep();
    }
    fs::path dir = ref.path.empty() ? dest : dest / ref.path;
    if (!fs::is_directory(dir)) {
        throw base::Error("action " + ref.repository() + "@" + ref.ref + " has no directory '" + ref.path + "'");
    }
    return dir;
}

}  // namespace nixjail::runner::actions
