// Reading the local repository's remote, HEAD and branch with git.
#include "runner/cli/repo_info.h"

#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <regex>

#include "runner/base/child_process.h"
#include "runner/base/error.h"

namespace nixjail::runner::cli {

namespace {

std::optional<std::string> git(const std::filesystem::path& dir, std::vector<std::string> args) {
    args.insert(args.begin(), {"git", "-c", "safe.directory=*"});
    try {
        base::Pipe out = base::Pipe::create();
        base::Pipe err = base::Pipe::create();
        auto child = base::ChildProcess::spawn({.argv = args,
                                                .env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent"},
                                                .cwd = dir,
                                                .stdout_fd = out.write.get(),
                                                .stderr_fd = err.write.get()});
        out.write.reset();
        err.write.reset();
        std::string text;
        char buf[4096];
        for (ssize_t n; (n = ::read(out.read.get(), buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
        if (child.wait().exitCode() != 0) return std::nullopt;
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        return text;
    } catch (const base::Error&) {
        return std::nullopt;  // no git on this machine: the caller uses placeholders
    }
}

}  // namespace

nlohmann::json localGithubContext(const std::filesystem::path& dir) {
    nlohmann::json g;
    std::string repo = "local/" + std::filesystem::absolute(dir).lexically_normal().filename().string();
    std::string server = "https://github.com";
    if (auto url = git(dir, {"remote", "get-url", "origin"})) {
        static const std::regex kUrl(R"(^(?:(https?)://(?:[^@/]+@)?([^/]+)/|[^@]+@([^:]+):)(.+?)(?:\.git)?/?$)");
        std::smatch m;
        if (std::regex_match(*url, m, kUrl)) {
            repo = m[4];
            const std::string host = m[2].matched ? m[2].str() : m[3].str();
            server = (m[1].matched ? m[1].str() : std::string("https")) + "://" + host;
        }
    }
    const auto slash = repo.find('/');
    g["repository"] = repo;
    g["repository_owner"] = slash == std::string::npos ? repo : repo.substr(0, slash);
    g["sha"] = git(dir, {"rev-parse", "HEAD"}).value_or("0000000000000000000000000000000000000000");
    auto ref = git(dir, {"symbolic-ref", "-q", "HEAD"});
    g["ref"] = ref.value_or("refs/heads/main");
    g["ref_name"] = g["ref"].get<std::string>().substr(g["ref"].get<std::string>().rfind('/') + 1);
    g["ref_type"] = "branch";
    const char* user = std::getenv("USER");
    g["actor"] = user && *user ? user : "nixjail";
    g["triggering_actor"] = g["actor"];
    g["server_url"] = server;
    g["api_url"] = server == "https://github.com" ? "https://api.github.com" : server + "/api/v1";
    g["graphql_url"] = server == "https://github.com" ? "https://api.github.com/graphql" : server + "/api/graphql";
    return g;
}

}  // namespace nixjail::runner::cli
