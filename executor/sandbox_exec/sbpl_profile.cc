// Generates the job part of the SBPL profile and appends it to base_profile.sb.
#include "executor/sandbox_exec/sbpl_profile.h"

#include <cstdio>
#include <set>

#include "executor/sandbox_exec/base_profile_sb.h"
#include "runner/base/error.h"

namespace nixjail::executor::sbpl {

namespace fs = std::filesystem;

namespace {

// Keychain and credential services. The deny default already refuses them; these rules come
// last (in SBPL the last matching rule wins) so that no allow added above can reopen them.
constexpr const char* kKeychainServices[] = {
    "com.apple.SecurityServer",    "com.apple.securityd",
    "com.apple.securityd.xpc",     "com.apple.secd",
    "com.apple.security.agent",    "com.apple.security.authhost",
    "com.apple.ctkd.token-client", "com.apple.ctkd.slot-client",
};

std::string checkedPath(const fs::path& p, const char* what) {
    if (!p.is_absolute()) {
        throw base::Error(std::string(what) + " '" + p.string() +
                          "' must be absolute for the sandbox-exec profile");
    }
    return p.lexically_normal().string();
}

void appendFilters(std::string& out, const char* filter, const std::vector<std::string>& paths) {
    for (const auto& p : paths) out += "\n    (" + std::string(filter) + " " + sbplString(p) + ")";
}

}  // namespace

std::string_view sbplBaseProfile() { return kBaseProfileSb; }

std::string sbplString(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                    char hex[8];
                    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(c));
                    throw base::Error("path '" + std::string(s) + "' contains control character " +
                                      hex + ", which an SBPL string cannot carry; rename it");
                }
                out += c;
        }
    }
    return out + "\"";
}

std::string sbplProfile(const ProfileInputs& in) {
    std::vector<std::string> store, writable;
    std::set<std::string> ancestors;
    auto addAncestors = [&ancestors](const fs::path& p) {
        for (auto a = p.parent_path(); !a.empty(); a = a.parent_path()) {
            ancestors.insert(a.string());
            if (a == a.root_path()) break;
        }
    };
    for (const auto& p : in.store_paths) {
        store.push_back(checkedPath(p, "store path"));
        addAncestors(store.back());
    }
    for (const auto& p : in.writable) {
        writable.push_back(checkedPath(p, "writable path"));
        addAncestors(writable.back());
    }

    std::string out(sbplBaseProfile());
    out += "\n; ---- generated for this job ----\n";
    if (!store.empty()) {
        out += "\n; The job's closure: read and execute, never write.\n";
        out += "(allow file-read* process-exec file-map-executable";
        appendFilters(out, "subpath", store);
        out += ")\n";
    }
    if (!writable.empty()) {
        out += "\n; Workspace, job home and temp.\n";
        out += "(allow file-read* file-write* process-exec file-map-executable";
        appendFilters(out, "subpath", writable);
        out += ")\n";
    }
    if (!ancestors.empty()) {
        out += "\n; The directories above them, for stat() only (realpath, getcwd).\n";
        out += "(allow file-read-metadata";
        appendFilters(out, "literal", {ancestors.begin(), ancestors.end()});
        out += ")\n";
    }
    if (in.proxy_port) {
        out += "\n; Network: the job's proxy on localhost is the only way out.\n";
        out += "(allow network-outbound (remote tcp " +
               sbplString("localhost:" + std::to_string(*in.proxy_port)) + "))\n";
    } else {
        out += "\n; Network: none.\n";
    }
    out += "\n; No keychain, whatever was allowed above.\n(deny mach-lookup";
    for (const char* name : kKeychainServices) {
        out += "\n    (global-name " + sbplString(name) + ")";
    }
    out +=
        ")\n(deny file-read* file-write*\n    (subpath \"/Library/Keychains\")\n"
        "    (regex #\"^/Users/[^/]+/Library/Keychains(/|$)\"))\n";
    return out;
}

}  // namespace nixjail::executor::sbpl
