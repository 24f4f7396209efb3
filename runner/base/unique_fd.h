// UniqueFd owns one file descriptor; Pipe owns both ends of a close-on-exec pipe.
#pragma once

#include <utility>

namespace nixjail::base {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) reset(o.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    explicit operator bool() const { return valid(); }
    int release() { return std::exchange(fd_, -1); }
    // Closes quietly (destructor semantics).
    void reset(int fd = -1);
    // Closes and throws SysError when close(2) reports an error (e.g. a delayed write error).
    void close();

private:
    int fd_ = -1;
};

struct Pipe {
    UniqueFd read;
    UniqueFd write;
    // Both ends close-on-exec from birth.
    static Pipe create();
};

}  // namespace nixjail::base
