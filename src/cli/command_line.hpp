// Boost.Program_options plumbing shared by every subcommand: --help, --config FILE (INI,
// keys at top level or in the [command] section; the command line wins), and errors turned
// into kiln's exit codes (64 usage, 78 configuration).
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace kiln::cli {

namespace po = boost::program_options;

struct CommandLine {
    po::variables_map vm;
    bool help = false;
};

/// Parses `args` (after the subcommand name). `options` must not declare --help/--config;
/// they are added here. Throws UsageError or ConfigError naming the option, key, file, line.
CommandLine parse_command_line(const std::string& command, const std::vector<std::string>& args,
                               const po::options_description& options,
                               const po::positional_options_description& positional);

/// "Usage: kiln <command> <synopsis>\n\n<summary>\n\n<options>".
void print_help(const std::string& command, const std::string& synopsis, const std::string& summary,
                const po::options_description& options);

/// Threads to use per rank: SLURM_CPUS_PER_TASK, else OMP_NUM_THREADS, else 1 under an MPI
/// launcher and all cores without one.
int default_threads();
/// --threads when given (ConfigError when below 1), else default_threads().
int threads_option(const po::variables_map& vm);

/// The value of an option, or `fallback` when it was not given.
template <typename T>
T get_or(const po::variables_map& vm, const char* key, T fallback) {
    return vm.count(key) != 0U ? vm[key].as<T>() : fallback;
}

}  // namespace kiln::cli
