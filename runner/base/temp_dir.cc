// Creating and removing temporary directories.
#include "runner/base/temp_dir.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <system_error>
#include <utility>
#include <vector>

#include "runner/base/error.h"

namespace nixjail::base {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string& prefix, fs::path parent) {
    if (parent.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        parent = tmp && *tmp ? tmp : "/tmp";
    }
    std::string templ = (parent / (prefix + "XXXXXX")).string();
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw SysError("creating temporary directory in '" + parent.string() + "'");
    path_ = buf.data();
}

TempDir::TempDir(TempDir&& o) noexcept
    : path_(std::exchange(o.path_, {})), keep_(o.keep_) {}

TempDir& TempDir::operator=(TempDir&& o) noexcept {
    if (this != &o) {
        if (!path_.empty() && !keep_) {
            std::error_code ec;
            fs::remove_all(path_, ec);
        }
        path_ = std::exchange(o.path_, {});
        keep_ = o.keep_;
    }
    return *this;
}

TempDir::~TempDir() {
    if (path_.empty() || keep_) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (ec) spdlog::warn("removing temporary directory '{}' failed, ignoring: {}", path_.string(), ec.message());
}

void TempDir::remove() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (ec) throw Error("cannot remove temporary directory '" + path_.string() + "': " + ec.message());
    path_.clear();
}

}  // namespace nixjail::base
