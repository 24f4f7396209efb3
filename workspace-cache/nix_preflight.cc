// The Nix pre-flight check: gather the facts (settings, build users, store, daemon), then decide
// in pure code what, if anything, stops Nix from building.
#include "workspace-cache/nix_preflight.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "runner/base/error.h"
#include "runner/base/find_program.h"
#include "runner/base/unique_fd.h"
#include "workspace-cache/command_output.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

constexpr const char* kInstall =
    "On Debian: apt-get install nix-bin nix-setup-systemd (its postinst creates the group "
    "nixbld and the users nixbld1..10)";

bool startsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// A variable as the Nix tools will see it: tools.env (later entries win), else ours.
std::string nixVariable(const NixTools& tools, const std::string& name, const char* fallback) {
    std::string value;
    bool found = false;
    for (const auto& kv : tools.env) {
        if (kv.size() > name.size() && kv[name.size()] == '=' && startsWith(kv, name.c_str())) {
            value = kv.substr(name.size() + 1);
            found = true;
        }
    }
    if (found) return value;
    const char* ours = std::getenv(name.c_str());
    return ours ? ours : fallback;
}

// `name` in tools.bin_dir, else in PATH; empty: not there. `searched` says where it looked.
std::string findTool(const NixTools& tools, const char* name, std::string& searched) {
    if (!tools.bin_dir.empty()) {
        searched = "'" + tools.bin_dir.string() + "'";
        const fs::path p = tools.bin_dir / name;
        return ::access(p.c_str(), X_OK) == 0 ? p.string() : std::string();
    }
    const char* env = std::getenv("PATH");
    const std::string path = env ? env : "";
    searched = "PATH (" + path + ")";
    return base::findProgram(name, path).string();
}

// Whether this process may write `dir`, judged by its nearest existing ancestor when it does
// not exist yet (Nix creates it then).
bool writable(fs::path dir) {
    std::error_code ec;
    while (!dir.empty() && !fs::exists(dir, ec) && dir != dir.parent_path()) dir = dir.parent_path();
    return ::access(dir.c_str(), W_OK) == 0;
}

// Empty when something accepts a connection on the socket, else why not.
std::string connectError(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return "the socket path is too long";
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return std::strerror(errno);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return std::strerror(errno);
    return {};
}

// "name = value" lines of `nix show-config`.
void readSettings(const std::string& text, NixSetup& setup) {
    for (const auto& line : outputLines(text)) {
        const size_t eq = line.find(" = ");
        const size_t end = eq == std::string::npos ? line.size() : eq;
        const std::string name = line.substr(0, end);
        const std::string value = eq == std::string::npos ? "" : line.substr(eq + 3);
        if (name == "store") setup.store = value;
        if (name == "build-users-group") setup.build_users_group = value;
    }
}

std::string daemonAdvice() {
    return "start nix-daemon as root (`nix-daemon --daemon &`; where systemd runs, Debian's "
           "nix-setup-systemd starts it from nix-daemon.socket)";
}

}  // namespace

std::optional<std::string> nixBuildProblem(const NixSetup& s) {
    if (s.nix_build.empty()) {
        return "Nix is not installed: there is no nix-build in " + s.searched +
               ", and job roots are built from Nix packages. " + kInstall +
               "; or put Nix's bin directory in PATH";
    }
    if (!s.config_error.empty()) {
        return "cannot read Nix's settings (nix show-config): " + s.config_error +
               "; fix /etc/nix/nix.conf or NIX_CONFIG";
    }
    // Which store Nix opens, as its openStore() decides for "auto".
    const bool isAuto = s.store.empty() || s.store == "auto";
    const bool daemon = s.store == "daemon" || startsWith(s.store, "unix://") ||
                        (isAuto && !s.not_writable.empty() && s.daemon_socket_exists);
    const bool local = !daemon && (isAuto || s.store == "local" || startsWith(s.store, "local?") ||
                                   startsWith(s.store, "/"));
    if (daemon) {
        if (s.daemon_error.empty()) return std::nullopt;  // the daemon has its own build users
        const std::string why = "Nix builds through the nix-daemon here (store = " +
                                (isAuto ? "auto" : s.store) + "), but nothing answers on '" +
                                s.daemon_socket + "': " + s.daemon_error + "; ";
        if (s.daemon_error == std::strerror(EACCES)) {
            return why + "add uid " + std::to_string(::getuid()) +
                   "'s user to the group allowed to use the socket (Debian's nix-setup-systemd: "
                   "nix-users), or run the runner as root";
        }
        return why + daemonAdvice();
    }
    if (!local) return std::nullopt;  // a remote store: nothing here to check
    if (!s.not_writable.empty()) {
        return "Nix cannot write its store: '" + s.not_writable + "' is not writable by uid " +
               std::to_string(::getuid()) + ", and no nix-daemon socket is at '" +
               s.daemon_socket + "'; run the runner as root, or build through the nix-daemon: " +
               daemonAdvice() + ", and set NIX_REMOTE=daemon";
    }
    if (!s.root || s.build_users_group.empty()) return std::nullopt;
    const std::string group = "the group '" + s.build_users_group + "' named by Nix's build-users-group";
    const std::string fix =
        ", and root's Nix builds only as its members. " + std::string(kInstall) +
        "; elsewhere create the group and its members as Nix's installer does (system users, no "
        "login shell, home /var/empty); or build through the nix-daemon: " +
        daemonAdvice() + ", and set NIX_REMOTE=daemon";
    if (!s.build_users) return "Nix cannot build: " + group + " does not exist" + fix;
    if (*s.build_users == 0) return "Nix cannot build: " + group + " has no members" + fix;
    return std::nullopt;
}

NixSetup readNixSetup(const NixTools& tools) {
    NixSetup s;
    s.nix_build = findTool(tools, "nix-build", s.searched);
    if (s.nix_build.empty()) return s;
    s.root = ::getuid() == 0;
    s.store = nixVariable(tools, "NIX_REMOTE", "auto");
    s.build_users_group = s.root ? "nixbld" : "";  // Nix's defaults, for a Nix without `nix`
    std::string searched;
    if (const std::string nix = findTool(tools, "nix", searched); !nix.empty()) {
        const CommandOutput r = runCommand(
            {nix, "--extra-experimental-features", "nix-command", "show-config"}, tools.env);
        if (r.exit_code == 0) {
            readSettings(r.out, s);
        } else {
            const auto lines = outputLines(r.err);
            s.config_error = "exit " + std::to_string(r.exit_code) +
                             (lines.empty() ? std::string() : ": " + lines.back());
        }
    }
    if (!s.build_users_group.empty()) {
        if (const group* g = ::getgrnam(s.build_users_group.c_str())) {
            size_t n = 0;
            for (char** m = g->gr_mem; m && *m; ++m) ++n;
            s.build_users = n;
        }
    }
    const std::string stateDir = nixVariable(tools, "NIX_STATE_DIR", "/nix/var/nix");
    for (const std::string& dir : {stateDir, nixVariable(tools, "NIX_STORE_DIR", "/nix/store")}) {
        if (!writable(dir)) {
            s.not_writable = dir;
            break;
        }
    }
    s.daemon_socket = startsWith(s.store, "unix://")
                          ? s.store.substr(7)
                          : nixVariable(tools, "NIX_DAEMON_SOCKET_PATH",
                                        (stateDir + "/daemon-socket/socket").c_str());
    // As Nix's auto store sees it: a socket in a directory we may not search still exists.
    struct stat st {};
    if (::lstat(s.daemon_socket.c_str(), &st) == 0) {
        s.daemon_socket_exists = true;
        s.daemon_error = connectError(s.daemon_socket);
    } else {
        s.daemon_socket_exists = errno != ENOENT && errno != ENOTDIR;
        s.daemon_error = s.daemon_socket_exists ? std::strerror(errno) : "no such socket";
    }
    return s;
}

void checkNixCanBuild(const NixTools& tools) {
    if (const auto problem = nixBuildProblem(readNixSetup(tools))) throw base::Error(*problem);
}

}  // namespace nixjail::cache
