// `nixjail-runner register` (online, with a registration token) and `create-runner-file`
// (offline, with a pre-shared secret): both write the runner file (mode 0600).
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/cli/commands.h"
#include "runner/forge/forgejo_client.h"
#include "runner/forge/runner_file.h"

namespace nixjail::runner::cli {

namespace {

constexpr const char* kVersion = "nixjail-runner 0.1.0";

struct RegisterFlags {
    std::string instance, token, token_file, secret, secret_file, name, labels = "nix", runner_file = ".runner";
    bool no_interactive = false;
};

std::vector<std::string> splitLabels(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text + ",") {
        if (c == ',') {
            const auto b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
            if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
            cur.clear();
        } else {
            cur += c;
        }
    }
    return out;
}

// Asks on the terminal for a value the flags did not give, unless --no-interactive.
void ask(std::string& value, const char* flag, const char* prompt, bool interactive) {
    if (!value.empty()) return;
    if (!interactive || !::isatty(STDIN_FILENO)) {
        throw base::Error(std::string(flag) + " is required (or run on a terminal without --no-interactive)");
    }
    std::cout << prompt << ": " << std::flush;
    std::getline(std::cin, value);
    if (value.empty()) throw base::Error(std::string(flag) + " is required");
}

std::string hostName() {
    char buf[256] = {};
    return ::gethostname(buf, sizeof buf - 1) == 0 && buf[0] ? buf : "nixjail-runner";
}

// --token-file / --secret-file: the value is the file's first line, so it never shows in `ps`.
void readValueFile(std::string& value, const std::string& file, const char* flag) {
    if (file.empty()) return;
    if (!value.empty()) throw base::Error(std::string("give either ") + flag + " or " + flag + "-file, not both");
    const std::string text = base::readFile(file);
    value = text.substr(0, text.find('\n'));
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    if (value.empty()) throw base::Error(std::string(flag) + "-file '" + file + "' is empty");
}

int registerOnline(RegisterFlags f) {
    readValueFile(f.token, f.token_file, "--token");
    ask(f.instance, "--instance", "Forge URL (e.g. https://forge.example.com)", !f.no_interactive);
    ask(f.token, "--token", "Runner registration token", !f.no_interactive);
    if (f.name.empty()) f.name = hostName();
    while (!f.instance.empty() && f.instance.back() == '/') f.instance.pop_back();
    const auto labels = splitLabels(f.labels);
    if (labels.empty()) throw base::Error("--labels must name at least one label");
    std::vector<std::string> names;
    for (const auto& l : labels) names.push_back(l.substr(0, l.find(':')));

    forge::ForgejoClient client(forge::ForgeEndpoint{f.instance, "", base::Secret(), std::chrono::seconds(30)});
    forge::RunnerInfo info = client.registerRunner({f.name, f.token, kVersion, names});
    forge::RunnerFile file;
    file.id = info.id;
    file.uuid = info.uuid;
    file.name = info.name.empty() ? f.name : info.name;
    file.token = base::Secret(info.token);
    file.address = f.instance;
    file.labels = labels;
    forge::writeRunnerFile(f.runner_file, file);
    std::cout << "registered runner '" << file.name << "' (" << file.uuid << ") with " << f.instance
              << "; runner file: " << f.runner_file << "\n";
    return 0;
}

int createRunnerFile(RegisterFlags f) {
    readValueFile(f.secret, f.secret_file, "--secret");
    if (f.instance.empty() || f.secret.empty()) throw base::Error("--instance and --secret (or --secret-file) are required");
    if (f.name.empty()) f.name = hostName();
    while (!f.instance.empty() && f.instance.back() == '/') f.instance.pop_back();
    forge::RunnerFile file = forge::runnerFileFromSecret(f.instance, f.secret, f.name);
    file.labels = splitLabels(f.labels);
    forge::writeRunnerFile(f.runner_file, file);
    std::cout << "wrote " << f.runner_file << " for runner '" << file.name << "' (" << file.uuid
              << "); register the same secret on the forge (forgejo-cli actions register --secret ...)\n";
    return 0;
}

}  // namespace

void addRegisterCommands(CLI::App& app, int& exit_code) {
    auto flags = std::make_shared<RegisterFlags>();
    auto wrap = [flags, &exit_code](int (*fn)(RegisterFlags)) {
        return [flags, &exit_code, fn] {
            try {
                exit_code = fn(*flags);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "nixjail-runner: %s\n", e.what());
                exit_code = 1;
            }
        };
    };
    auto* reg = app.add_subcommand("register", "Register this runner with a Forgejo or Gitea instance");
    reg->add_option("--instance", flags->instance, "the forge's URL");
    reg->add_option("--token", flags->token, "the runner registration token from the forge's settings");
    reg->add_option("--token-file", flags->token_file, "read the registration token from this file instead");
    reg->add_option("--name", flags->name, "the runner's name (default: the host name)");
    reg->add_option("--labels", flags->labels, "comma-separated labels jobs select with runs-on (default: nix)");
    reg->add_option("--runner-file", flags->runner_file, "where to write the runner file (default: .runner)");
    reg->add_flag("--no-interactive", flags->no_interactive, "never ask on the terminal");
    reg->callback(wrap(registerOnline));

    auto* off = app.add_subcommand("create-runner-file", "Write a runner file for offline registration with a shared secret");
    off->add_option("--instance", flags->instance, "the forge's URL")->required();
    off->add_option("--secret", flags->secret, "40 hex characters, also given to `forgejo-cli actions register`");
    off->add_option("--secret-file", flags->secret_file, "read the secret from this file instead");
    off->add_option("--name", flags->name, "the runner's name (default: the host name)");
    off->add_option("--labels", flags->labels, "comma-separated labels (default: nix)");
    off->add_option("--runner-file", flags->runner_file, "where to write the runner file (default: .runner)");
    off->callback(wrap(createRunnerFile));
}

}  // namespace nixjail::runner::cli
