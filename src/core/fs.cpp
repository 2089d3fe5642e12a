#include "kiln/core/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kiln/core/error.hpp"

namespace kiln::fs {
namespace {

void write_all(int fd, const char* data, std::size_t size, const std::string& path) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw IoError(errno_message("cannot write '" + path + "'"));
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

std::string parent_of(const std::string& path) {
    const auto parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

void fsync_path(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IoError(errno_message("cannot open '" + path + "' for fsync"));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    // Some file systems refuse fsync on directories (EINVAL); that is not a data loss.
    if (rc != 0 && !(err == EINVAL || err == EROFS)) {
        errno = err;
        throw IoError(errno_message("fsync of '" + path + "' failed"));
    }
}

void durable_rename(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        throw IoError(errno_message("cannot rename '" + from + "' to '" + to + "'"));
    }
    fsync_path(parent_of(to));
}

void make_dirs(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) {
        throw IoError("cannot create directory '" + path + "': " + ec.message());
    }
}

void Fd::close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

std::size_t read_up_to(int fd, char* data, std::size_t size, const std::string& what) {
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::read(fd, data + done, size - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw IoError(errno_message("read error in " + what));
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(errno_message("cannot open '" + path + "'"));
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw IoError(errno_message("cannot read '" + path + "'"));
    return ss.str();
}

void write_file_atomic(const std::string& path, std::string_view content) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) throw IoError(errno_message("cannot create '" + tmp + "'"));
    try {
        write_all(fd, content.data(), content.size(), tmp);
        if (::fsync(fd) != 0) throw IoError(errno_message("fsync of '" + tmp + "' failed"));
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    if (::close(fd) != 0) throw IoError(errno_message("cannot close '" + tmp + "'"));
    durable_rename(tmp, path);
}

void append_line_durable(const std::string& path, std::string_view line) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0) throw IoError(errno_message("cannot open '" + path + "' for appending"));
    std::string buf(line);
    buf.push_back('\n');
    try {
        write_all(fd, buf.data(), buf.size(), path);
        if (::fsync(fd) != 0) throw IoError(errno_message("fsync of '" + path + "' failed"));
    } catch (...) {
        ::close(fd);
        throw;
    }
    if (::close(fd) != 0) throw IoError(errno_message("cannot close '" + path + "'"));
}

void truncate_durable(const std::string& path, std::uint64_t size) {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
        throw IoError(errno_message("cannot truncate '" + path + "'"));
    }
    fsync_path(path);
}

bool is_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace kiln::fs
