// Boost.Program_options plumbing shared by every subcommand: --help, --config FILE (INI,
// keys at top level or in the [command] section), --set KEY=VALUE, --print-config, and
// errors turned into kiln's exit codes (64 usage, 78 configuration). Precedence: the
// command line, then --set, then the job file, then the defaults.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kiln {
struct Status;
namespace mpi {
class Comm;
}
namespace tasks {
struct RunReport;
}
}  // namespace kiln

namespace kiln::cli {

namespace po = boost::program_options;

struct CommandLine {
    po::variables_map vm;
    std::map<std::string, std::string> source;  // key -> "command line", "--set", "FILE:LINE"
    bool help = false;
    bool print_config = false;  // --print-config: printed; the command stops with exit 0
};

/// Parses `args` (after the subcommand name). `options` must not declare --help, --config,
/// --set or --print-config; they are added here. Throws UsageError or ConfigError naming the
/// option, key, file, line. `conflicts` lists pairs of options that cannot be given together
/// (UsageError, exit 64, naming where each came from; a switch counts when on), checked even for
/// --print-config so a job's check finds them.
CommandLine parse_command_line(
    const std::string& command, const std::vector<std::string>& args,
    const po::options_description& options, const po::positional_options_description& positional,
    const std::vector<std::pair<std::string, std::string>>& conflicts = {});

/// "Usage: kiln <command> <synopsis>\n\n<summary>\n\n<options>".
void print_help(const std::string& command, const std::string& synopsis, const std::string& summary,
                const po::options_description& options);

/// Threads to use per rank: SLURM_CPUS_PER_TASK, else OMP_NUM_THREADS, else 1 under an MPI
/// launcher and all cores without one.
int default_threads();
/// --threads when given (ConfigError when below 1), else default_threads().
int threads_option(const po::variables_map& vm);

/// A whole number, 0 or more, as an option's value. Boost reads "-1" into an unsigned type as
/// 2^64 - 1, so counts, limits and seeds are declared with count_value() and read with
/// count(): a sign, a fraction or a number past 2^64 - 1 is then a usage error (exit 64).
struct Count {
    std::uint64_t value = 0;
};
/// Boost.Program_options' parser for Count (found by argument-dependent lookup).
void validate(boost::any& out, const std::vector<std::string>& values, Count* /*type*/,
              int /*overload*/);
/// A Count option with a default.
po::typed_value<Count>* count_value(std::uint64_t fallback);
/// The value of a Count option that has a default.
std::uint64_t count(const po::variables_map& vm, const char* key);

/// --progress-interval in seconds; ConfigError unless a finite number >= 0.
double progress_interval(const po::variables_map& vm);

/// The value of an option, or `fallback` when it was not given.
template <typename T>
T get_or(const po::variables_map& vm, const char* key, T fallback) {
    return vm.count(key) != 0U ? vm[key].as<T>() : fallback;
}

/// Collective: every rank shares rank 0's verdict, so all stop together with one exit code.
/// A failure is logged before the broadcast (once one rank returns nonzero, mpirun may kill
/// the others). Returns true to go on; otherwise `exit_code` holds the code to return.
bool agree_to_continue(const mpi::Comm& comm, const Status& status, int& exit_code);
/// How a run of `units` work units ended, for rank 0's exit code: an I/O error (74), failed
/// units (65), a stop by a signal (75), else ok. Each message says how to resume.
Status run_outcome(const tasks::RunReport& report, std::size_t units);
/// Deletes `*.tmp` files in `dir`: leftovers of an interrupted run (logged).
void remove_leftovers(const std::string& dir);
/// $SLURM_JOB_ID, or SLURM_ARRAY_JOB_ID_SLURM_ARRAY_TASK_ID for an array task, or "".
std::string job_id();

}  // namespace kiln::cli
