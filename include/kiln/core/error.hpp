// Errors and exit codes.
//
// Inside a process kiln throws kiln::Error (or a subclass naming the domain). Across ranks and
// threads a Status value travels instead. `main` maps both to the sysexits-style exit codes
// below, which are documented in README.md.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace kiln {

/// Process exit codes (sysexits.h style). Stable: scripts and Slurm jobs depend on them.
enum class ExitCode : int {
    kOk = 0,
    kUsage = 64,         // bad command line or query
    kDataError = 65,     // bad input data, failed verification, failed units
    kNoInput = 66,       // an input file or directory does not exist
    kInternal = 70,      // a bug in kiln
    kIoError = 74,       // cannot read or write (full disk, permissions)
    kStoppedEarly = 75,  // stopped by a signal after committing; rerun to resume
    kConfig = 78,        // bad configuration file or option value
};

/// Base of every kiln exception. `code()` is the exit code the process ends with when the
/// exception reaches `main`.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, ExitCode code = ExitCode::kInternal)
        : std::runtime_error(message), code_(code) {}
    [[nodiscard]] ExitCode code() const noexcept { return code_; }

private:
    ExitCode code_;
};

/// Command line or query mistakes (exit 64).
class UsageError : public Error {
public:
    explicit UsageError(const std::string& m) : Error(m, ExitCode::kUsage) {}
};
/// Input data that cannot be used, failed verification (exit 65).
class DataError : public Error {
public:
    explicit DataError(const std::string& m) : Error(m, ExitCode::kDataError) {}
};
/// A named input does not exist (exit 66).
class NoInputError : public Error {
public:
    explicit NoInputError(const std::string& m) : Error(m, ExitCode::kNoInput) {}
};
/// Operating-system or HDF5 I/O failure (exit 74).
class IoError : public Error {
public:
    explicit IoError(const std::string& m) : Error(m, ExitCode::kIoError) {}
};
/// Bad configuration file or option value (exit 78).
class ConfigError : public Error {
public:
    explicit ConfigError(const std::string& m) : Error(m, ExitCode::kConfig) {}
};

/// `message: strerror(errno)` for the current errno.
[[nodiscard]] std::string errno_message(std::string_view what);

/// The result of a unit of work as it travels between ranks or threads: an exit code and a
/// message. `ok()` when code is kOk.
struct Status {
    ExitCode code = ExitCode::kOk;
    std::string message;

    [[nodiscard]] bool ok() const noexcept { return code == ExitCode::kOk; }
    static Status from_current_exception();
};

namespace detail {
[[noreturn]] void throw_check_failure(ExitCode code, const char* condition, const char* file,
                                      int line, const std::string& message);
}  // namespace detail

}  // namespace kiln

/// Throws kiln::Error with `code` when `cond` is false; the message records the condition,
/// file and line (for kInternal) or only the message (for user-facing codes).
#define KILN_CHECK(cond, code, msg)                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            ::kiln::detail::throw_check_failure((code), #cond, __FILE__, __LINE__, (msg)); \
        }                                                                                  \
    } while (false)

/// Internal invariant: failing it is a bug in kiln (exit 70).
#define KILN_ASSERT(cond, msg) KILN_CHECK(cond, ::kiln::ExitCode::kInternal, msg)
