// Small, checked file-system operations used by the commit protocol and the journal.
// Every failure throws kiln::IoError naming the path and the OS error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::fs {

/// Owns a file descriptor (negative: none) and closes it at scope exit.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { close(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    [[nodiscard]] int get() const noexcept { return fd_; }
    /// Closes now (errors ignored: for descriptors only read from).
    void close() noexcept;

private:
    int fd_;
};

/// Reads up to `size` bytes from `fd`, retrying short reads and EINTR; returns the count
/// (short only at end of file). Throws IoError "read error in WHAT: ...".
std::size_t read_up_to(int fd, char* data, std::size_t size, const std::string& what);

/// fsync(2) of a file or directory by path.
void fsync_path(const std::string& path);
/// rename(2) `from` to `to` (same directory), then fsync the directory so the new name is
/// durable. Atomic: readers see the old name or the new one, never a partial file.
void durable_rename(const std::string& from, const std::string& to);
/// Creates a directory and its parents (mode 0777 & ~umask); succeeds if it exists.
void make_dirs(const std::string& path);
/// The whole content of a file.
[[nodiscard]] std::string read_file(const std::string& path);
/// Writes `content` to `path` with the commit protocol: `path.tmp`, fsync, rename, fsync dir.
void write_file_atomic(const std::string& path, std::string_view content);
/// Appends one line (a trailing '\n' is added) to `path` and fsyncs it; creates the file.
void append_line_durable(const std::string& path, std::string_view line);
/// Truncates `path` to `size` bytes and fsyncs it.
void truncate_durable(const std::string& path, std::uint64_t size);
/// Whether a regular file (following links) exists at `path`.
[[nodiscard]] bool is_file(const std::string& path);

}  // namespace kiln::fs
