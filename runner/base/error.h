// The project's exception hierarchy: failures throw one of these, outcomes are values (result.h).
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

namespace nixjail::base {

// A failure with a message that already says what failed, on what, and what to do.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// A failed system call; appends strerror(errno) to the message and keeps the errno.
class SysError : public Error {
public:
    explicit SysError(const std::string& what, int err = errno);
    int errnoValue() const { return errno_; }

private:
    int errno_;
};

// Bad user input (workflow, config, policy) with a position; line and column are 1-based, 0 = unknown.
class ConfigError : public Error {
public:
    ConfigError(std::string file, int line, int col, const std::string& message);
    const std::string& file() const { return file_; }
    int line() const { return line_; }
    int column() const { return col_; }

private:
    std::string file_;
    int line_;
    int col_;
};

}  // namespace nixjail::base
