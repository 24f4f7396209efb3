// TempDir owns a freshly made directory and removes it, recursively, when destroyed.
#pragma once

#include <filesystem>
#include <string>

namespace nixjail::base {

class TempDir {
public:
    // Creates `<parent>/<prefix>XXXXXX`; parent defaults to $TMPDIR or /tmp.
    explicit TempDir(const std::string& prefix = "nixjail-", std::filesystem::path parent = {});
    TempDir(TempDir&& o) noexcept;
    TempDir& operator=(TempDir&& o) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    const std::filesystem::path& path() const { return path_; }
    // Leave the directory behind (for --keep-failed style debugging).
    void keep() { keep_ = true; }
    // Removes now; throws on failure.
    void remove();

private:
    std::filesystem::path path_;
    bool keep_ = false;
};

}  // namespace nixjail::base
