// HDF5 files: the tree of groups and datasets (custom.hdf5), read by a separate process.
//
// Debian's HDF5 1.10 reads past its buffers on crafted files (kiln's fuzzer found a heap
// overflow in H5Dopen within two minutes), so kiln never parses an HDF5 file it ingests in its
// own process: the extractor hands the bytes to `kiln-hdf5-reader` (hdf5_reader_main.cpp,
// which calls read_hdf5_tree) on a memfd and reads its JSON; a crash or a hang there is that
// file's error, and the job goes on. Costs one process start (~2 ms) per HDF5 file.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"

namespace kiln::extract {
namespace {

// Where kiln-hdf5-reader is: $KILN_HDF5_READER, else beside the running program (the build
// tree), else in ../lib/kiln (an installation).
std::string reader_path() {
    if (const char* env = std::getenv("KILN_HDF5_READER"); env != nullptr && *env != '\0')
        return env;
    std::error_code ec;
    const auto dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    for (const auto& p :
         {dir / "kiln-hdf5-reader", dir.parent_path() / "lib" / "kiln" / "kiln-hdf5-reader"}) {
        if (!ec && ::access(p.c_str(), X_OK) == 0) return p.string();
    }
    throw DataError(
        "kiln-hdf5-reader, which reads HDF5 files apart from kiln, is not beside kiln "
        "nor in ../lib/kiln (set KILN_HDF5_READER to its path)");
}

std::string system_error(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

// Runs kiln-hdf5-reader with the bytes on its standard input (a memfd) and returns what it
// printed, or throws DataError when it died or ran past `seconds`.
std::string run_reader(std::string_view bytes, int seconds) {
    const std::string reader = reader_path();
    const fs::Fd input(::memfd_create("kiln-hdf5-input", MFD_CLOEXEC));
    if (input.get() < 0) throw DataError(system_error("memfd_create"));
    for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::write(input.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno != EINTR)
            throw DataError(system_error("writing the HDF5 reader's input"));
        if (n > 0) done += static_cast<std::size_t>(n);
    }
    ::lseek(input.get(), 0, SEEK_SET);
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw DataError(system_error("pipe"));
    fs::Fd out_read(out[0]);
    fs::Fd out_write(out[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, input.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    char* argv[] = {const_cast<char*>(reader.c_str()), nullptr};
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, reader.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw DataError("cannot start " + reader + ": " + std::strerror(rc));
    out_write.close();

    std::string output;
    bool timed_out = false;
    char buf[65536];
    for (;;) {
        pollfd p{out_read.get(), POLLIN, 0};
        const int ready = ::poll(&p, 1, seconds * 1000);
        if (ready == 0) {
            timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        if (ready < 0 && errno == EINTR) continue;
        const ssize_t n = ::read(out_read.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        output.append(buf, static_cast<std::size_t>(n));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
        throw DataError("HDF5 reading took more than " + std::to_string(seconds) + " s (stopped)");
    if (WIFSIGNALED(status)) {
        throw DataError(std::string("the HDF5 library crashed reading it (") +
                        ::strsignal(WTERMSIG(status)) + " in kiln-hdf5-reader; kiln went on)");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw DataError("kiln-hdf5-reader exited " + std::to_string(WEXITSTATUS(status)));
    return output;
}

class Hdf5Extractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "hdf5"; }

    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        const auto reply = nlohmann::json::parse(run_reader(file.bytes, 300), nullptr, false);
        if (reply.is_discarded() || !reply.is_object())
            throw DataError("kiln-hdf5-reader printed no JSON");
        if (reply.contains("error")) throw DataError(reply["error"].get<std::string>());
        return {{{"custom", {{"hdf5", reply.at("hdf5")}}}}};
    }
};

}  // namespace

std::unique_ptr<Extractor> make_hdf5_extractor() { return std::make_unique<Hdf5Extractor>(); }

}  // namespace kiln::extract
