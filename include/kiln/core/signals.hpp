// Graceful stop: SIGTERM, SIGUSR1 (what Slurm sends before a time limit) and SIGINT set a flag
// that long-running commands poll; they commit what is in flight and exit 75.
#pragma once

namespace kiln {

/// Installs the handlers (idempotent).
void install_stop_handlers();
/// Whether a stop signal has arrived.
[[nodiscard]] bool stop_requested() noexcept;
/// The signal number that asked to stop, 0 when none.
[[nodiscard]] int stop_signal() noexcept;

}  // namespace kiln
