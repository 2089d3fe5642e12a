#include "kiln/core/error.hpp"

#include <cerrno>
#include <cstring>
#include <exception>
#include <new>

namespace kiln {

std::string errno_message(std::string_view what) {
    const int err = errno;
    return std::string(what) + ": " + std::strerror(err);
}

Status Status::from_current_exception() {
    try {
        throw;
    } catch (const Error& e) {
        return {e.code(), e.what()};
    } catch (const std::bad_alloc&) {
        return {ExitCode::kInternal, "out of memory"};
    } catch (const std::exception& e) {
        return {ExitCode::kInternal, e.what()};
    } catch (...) {
        return {ExitCode::kInternal, "unknown exception"};
    }
}

namespace detail {

void throw_check_failure(ExitCode code, const char* condition, const char* file, int line,
                         const std::string& message) {
    if (code == ExitCode::kInternal) {
        throw Error(message + " [check `" + condition + "` failed at " + file + ":" +
                        std::to_string(line) + "]",
                    code);
    }
    throw Error(message, code);
}

}  // namespace detail
}  // namespace kiln
