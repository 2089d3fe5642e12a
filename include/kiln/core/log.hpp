// Batch-job logging: one line per message, UTC timestamp, rank tag.
//
// `info` goes to stdout, `warn` and `error` to stderr (what Slurm users expect in their .out and
// .err files), so that what a command prints for other programs (`kiln search --format ids`,
// `kiln extract`'s JSON lines) is never mixed with warnings. Thread-safe: each line is written
// with one call under a mutex.
#pragma once

#include <string_view>

namespace kiln::log {

/// Sets the rank shown in every line ("r3"); -1 (the default) shows no rank.
void set_rank(int rank);
/// The rank set by set_rank, or 0 when none was set.
[[nodiscard]] int rank();

/// Enables debug lines (also enabled by KILN_LOG=debug in the environment).
void set_debug(bool on);
[[nodiscard]] bool debug_enabled();

void debug(std::string_view message);
void info(std::string_view message);
void warn(std::string_view message);
void error(std::string_view message);

/// Whether stdout is a terminal (progress may use `\r` only then).
[[nodiscard]] bool stdout_is_terminal();

}  // namespace kiln::log
