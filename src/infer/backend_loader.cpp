// Finds and dlopens a backend library once per process. The handle is never closed: the
// backend's objects (and LibTorch's static state) live until the process ends.
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>

#include "kiln/core/error.hpp"
#include "kiln/infer/backend.hpp"

namespace kiln::infer {
namespace {

std::filesystem::path executable_dir() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path() : exe.parent_path();
}

std::vector<std::filesystem::path> search_dirs() {
    std::vector<std::filesystem::path> dirs;
    if (const char* env = std::getenv("KILN_BACKEND_DIR"); env != nullptr && *env != '\0')
        dirs.emplace_back(env);
    const auto exe = executable_dir();
    if (!exe.empty()) {
        dirs.push_back(exe);
        dirs.push_back(exe.parent_path() / "lib" / "kiln");
    }
    return dirs;
}

}  // namespace

std::string choose_device(const std::string& option, int cuda_devices, int local_rank) {
    if (option == "cpu") return "cpu";
    if (option == "auto" && cuda_devices == 0) return "cpu";
    if (option != "auto" && option != "cuda" && !option.starts_with("cuda:"))
        throw ConfigError("--device '" + option + "': expected cpu, cuda, cuda:N or auto");
    if (cuda_devices == 0)
        throw ConfigError("--device " + option +
                          ": LibTorch sees no CUDA device here (a CPU-only "
                          "LibTorch, or no GPU visible: CUDA_VISIBLE_DEVICES)");
    if (option.starts_with("cuda:")) {
        const std::string n = option.substr(5);
        char* end = nullptr;
        const long d = std::strtol(n.c_str(), &end, 10);
        if (n.empty() || *end != '\0' || d < 0 || d >= cuda_devices)
            throw ConfigError("--device " + option + ": expected a device number below " +
                              std::to_string(cuda_devices));
        return option;
    }
    return "cuda:" + std::to_string(std::max(0, local_rank) % cuda_devices);
}

int node_local_rank() {
    for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
        if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return std::atoi(v);
    }
    return 0;
}

Backend& load_backend(const std::string& name) {
    static std::mutex mutex;
    static std::map<std::string, Backend*> loaded;
    const std::lock_guard lock(mutex);
    if (auto it = loaded.find(name); it != loaded.end()) return *it->second;

    const std::string file = "libkiln_" + name + ".so";
    std::string tried;
    for (const auto& dir : search_dirs()) {
        const auto path = dir / file;
        if (!std::filesystem::exists(path)) {
            tried += "\n  " + path.string() + " (not there)";
            continue;
        }
        void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            tried += "\n  " + path.string() + ": " + dlerror();
            continue;
        }
        using Create = Backend* (*)();
        auto* create = reinterpret_cast<Create>(dlsym(handle, "kiln_backend_create"));
        if (create == nullptr)
            throw ConfigError(path.string() + " is not a kiln backend (no kiln_backend_create)");
        Backend* backend = create();
        loaded.emplace(name, backend);
        return *backend;
    }
    throw ConfigError("cannot load the '" + name + "' model backend " + file + "; tried:" + tried +
                      "\n(build it with -DKILN_ENABLE_TORCH=ON, or set KILN_BACKEND_DIR)");
}

}  // namespace kiln::infer
