// Running the Nix tools: stdout and stderr are drained together so neither pipe can fill up.
#include "workspace-cache/command_output.h"

#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/unique_fd.h"

extern char** environ;

namespace nixjail::cache {

CommandOutput runCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env) {
    base::Pipe out = base::Pipe::create();
    base::Pipe err = base::Pipe::create();
    base::SpawnOptions opts;
    opts.argv = argv;
    // The extra variables replace the process's own of the same name: with both in the block,
    // getenv() would find the process's first and the extra one would never apply.
    auto overridden = [&](const char* kv) {
        const char* eq = std::strchr(kv, '=');
        const size_t len = eq ? static_cast<size_t>(eq - kv) : std::strlen(kv);
        for (const auto& x : extra_env)
            if (x.size() > len && x.compare(0, len, kv, len) == 0 && x[len] == '=') return true;
        return false;
    };
    for (char** e = environ; *e; ++e)
        if (!overridden(*e)) opts.env.emplace_back(*e);
    opts.env.insert(opts.env.end(), extra_env.begin(), extra_env.end());
    opts.stdout_fd = out.write.get();
    opts.stderr_fd = err.write.get();
    base::ChildProcess child = base::ChildProcess::spawn(opts);
    out.write.reset();
    err.write.reset();

    CommandOutput result;
    struct pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_count = 2;
    char buf[8192];
    while (open_count > 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            throw base::SysError("cannot poll output of '" + argv[0] + "'");
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !fds[i].revents) continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open_count;
            }
        }
    }
    base::ExitStatus status = child.wait();
    result.exit_code = status.exited() ? status.exitCode() : 128 + status.termSignal();
    return result;
}

std::vector<std::string> outputLines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

}  // namespace nixjail::cache
