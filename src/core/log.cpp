#include "kiln/core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

namespace kiln::log {
namespace {

std::atomic<int> g_rank{-1};
std::atomic<int> g_debug{-1};  // -1: not yet read from the environment
std::mutex g_mutex;

std::string prefix(const char* level) {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::string p = stamp;
    const int r = g_rank.load();
    if (r >= 0) {
        p += " [r" + std::to_string(r) + "]";
    }
    p += level;
    return p;
}

void write_line(std::FILE* stream, const char* level, std::string_view message) {
    std::string line = prefix(level);
    line.append(message);
    line.push_back('\n');
    const std::lock_guard lock(g_mutex);
    std::fwrite(line.data(), 1, line.size(), stream);
    std::fflush(stream);
}

}  // namespace

void set_rank(int rank) { g_rank.store(rank); }
int rank() { return g_rank.load() < 0 ? 0 : g_rank.load(); }

void set_debug(bool on) { g_debug.store(on ? 1 : 0); }
bool debug_enabled() {
    int d = g_debug.load();
    if (d < 0) {
        const char* env = std::getenv("KILN_LOG");
        d = (env != nullptr && std::string_view(env) == "debug") ? 1 : 0;
        g_debug.store(d);
    }
    return d == 1;
}

void debug(std::string_view message) {
    if (debug_enabled()) {
        write_line(stdout, " debug: ", message);
    }
}
void info(std::string_view message) { write_line(stdout, " ", message); }
void warn(std::string_view message) { write_line(stderr, " warning: ", message); }
void error(std::string_view message) { write_line(stderr, " error: ", message); }

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

}  // namespace kiln::log
