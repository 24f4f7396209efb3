// actions/checkout's inputs (action.yml of actions/checkout v4): what each defaults to and which
// values it takes.
#include "runner/actions/checkout_inputs.h"

#include <charconv>

#include "runner/base/ascii.h"
#include "runner/base/error.h"

namespace nixjail::runner::actions {

namespace {

std::string trimmed(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The toolkit's getBooleanInput: true/True/TRUE or false/False/FALSE, anything else an error.
bool boolean(const std::function<std::string(const char*)>& with, const char* key, bool fallback) {
    const std::string v = trimmed(with(key));
    if (v.empty()) return fallback;
    if (v == "true" || v == "True" || v == "TRUE") return true;
    if (v == "false" || v == "False" || v == "FALSE") return false;
    throw base::Error(std::string("actions/checkout: input '") + key + "' is '" + v +
                      "'; use true or false");
}

}  // namespace

CheckoutInputs readCheckoutInputs(const std::function<std::string(const char*)>& with) {
    CheckoutInputs in;
    in.repository = trimmed(with("repository"));
    in.ref = trimmed(with("ref"));
    in.path = with("path");
    in.token = trimmed(with("token"));
    in.server_url = trimmed(with("github-server-url"));
    std::string line;
    for (char c : with("sparse-checkout") + "\n") {
        if (c != '\n') {
            line += c;
            continue;
        }
        if (auto t = trimmed(line); !t.empty()) in.sparse_checkout.push_back(t);
        line.clear();
    }
    in.sparse_cone = boolean(with, "sparse-checkout-cone-mode", true);

    if (const std::string depth = trimmed(with("fetch-depth")); !depth.empty()) {
        in.fetch_depth_given = true;
        int n = -1;
        const auto [end, ec] = std::from_chars(depth.data(), depth.data() + depth.size(), n);
        if (ec != std::errc() || end != depth.data() + depth.size() || n < 0) {
            throw base::Error("actions/checkout: input 'fetch-depth' is '" + depth +
                              "'; use a number of commits (0: the whole history)");
        }
        in.fetch_depth = n;
    }
    in.fetch_tags_given = !trimmed(with("fetch-tags")).empty();
    in.fetch_tags = boolean(with, "fetch-tags", false);
    in.persist_credentials = boolean(with, "persist-credentials", true);
    in.clean = boolean(with, "clean", true);
    in.filter = trimmed(with("filter"));
    boolean(with, "show-progress", true);       // progress output only
    boolean(with, "set-safe-directory", true);  // the workspace belongs to the step's user

    const std::string submodules = base::asciiLower(trimmed(with("submodules")));
    if (submodules != "" && submodules != "false" && submodules != "true" && submodules != "recursive") {
        throw base::Error("actions/checkout: input 'submodules' is '" + submodules +
                          "'; use true, false or recursive");
    }
    if (submodules != "false") in.submodules = submodules;

    if (boolean(with, "lfs", false)) {
        throw base::Error(
            "actions/checkout: 'lfs: true' is not supported: this runner's checkout cache (libgit2) "
            "does not download Git LFS objects. Remove it, or run 'git lfs pull' in a step whose "
            "packages include git-lfs (the checkout's origin works through the job's proxy)");
    }
    if (!trimmed(with("ssh-key")).empty()) {
        throw base::Error(
            "actions/checkout: 'ssh-key' is not supported: this runner fetches over HTTPS with a "
            "token, which stays outside the jail. Give the checkout a 'token' instead");
    }
    return in;
}

}  // namespace nixjail::runner::actions
