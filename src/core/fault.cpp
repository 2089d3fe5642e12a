#include "kiln/core/fault.hpp"

#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <string>

#include "kiln/core/log.hpp"

namespace kiln {
namespace {

struct FaultSpec {
    bool active = false;
    std::string point;
    int rank = -1;
    int nth = 1;
    int hits = 0;
};

FaultSpec& spec() {
    static FaultSpec s = [] {
        FaultSpec f;
        const char* env = std::getenv("KILN_FAULT");
        if (env == nullptr || *env == '\0') return f;
        std::string text = env;
        if (const auto hash = text.find('#'); hash != std::string::npos) {
            f.nth = std::max(1, std::atoi(text.c_str() + hash + 1));
            text.resize(hash);
        }
        if (const auto at = text.find('@'); at != std::string::npos) {
            f.rank = std::atoi(text.c_str() + at + 1);
            text.resize(at);
        }
        f.point = text;
        f.active = true;
        return f;
    }();
    return s;
}

std::mutex g_mutex;

}  // namespace

void fault_point(std::string_view point) {
    FaultSpec& f = spec();
    if (!f.active || point != f.point) return;
    if (f.rank >= 0 && f.rank != log::rank()) return;
    const std::lock_guard lock(g_mutex);
    if (++f.hits != f.nth) return;
    log::error("KILN_FAULT: killing this process at " + std::string(point));
    ::kill(::getpid(), SIGKILL);
    std::_Exit(137);
}

}  // namespace kiln
