// actions/checkout's inputs, read as actions/checkout reads them: defaults, booleans, numbers,
// the sparse-checkout list, and the inputs this runner cannot honour named in a clear error.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace nixjail::runner::actions {

struct CheckoutInputs {
    std::string repository;  // empty: the workflow's own
    std::string ref;         // empty: the triggering commit (own) or the default branch
    std::string path;
    std::string token;       // empty: github.token for the own repository
    std::string server_url;  // github-server-url; empty: github.server_url
    std::vector<std::string> sparse_checkout;
    bool sparse_cone = true;
    int fetch_depth = 1;     // 0: all history
    bool fetch_tags = false;
    bool persist_credentials = true;
    bool clean = true;
    std::string filter;      // a partial-clone filter (blob:none, tree:0)
    std::string submodules;  // "", "true", "recursive" (false is "")
    // Which of fetch-depth and fetch-tags the workflow gave (exec's working-tree copy says it
    // does not apply them).
    bool fetch_depth_given = false;
    bool fetch_tags_given = false;
};

// `with(key)` is the evaluated input, "" when the step does not give it. Throws base::Error
// naming the input for a bad value (fetch-depth: abc, clean: maybe) and for what this runner
// does not do (lfs: true, ssh-key).
CheckoutInputs readCheckoutInputs(const std::function<std::string(const char*)>& with);

}  // namespace nixjail::runner::actions
