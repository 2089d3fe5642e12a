#include "kiln/core/signals.hpp"

#include <atomic>
#include <csignal>

namespace kiln {
namespace {

std::atomic<int> g_signal{0};

extern "C" void on_stop_signal(int sig) { g_signal.store(sig); }

}  // namespace

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (const int sig : {SIGTERM, SIGUSR1, SIGINT}) sigaction(sig, &sa, nullptr);
}

bool stop_requested() noexcept { return g_signal.load() != 0; }
int stop_signal() noexcept { return g_signal.load(); }

}  // namespace kiln
