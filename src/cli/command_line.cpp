#include "cli/command_line.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "kiln/core/error.hpp"
#include "kiln/core/log.hpp"
#include "kiln/core/text.hpp"
#include "kiln/mpi/comm.hpp"

namespace kiln::cli {
namespace {

// Keeps the top-level keys and those of [command]; checks every kept key against `options`
// so an unknown or misspelled key names the file and line.
std::string select_config(const std::string& path, const std::string& command,
                          const po::options_description& options) {
    std::ifstream in(path);
    if (!in) throw ConfigError("--config '" + path + "': cannot open the file");
    std::string line;
    std::string section;
    std::ostringstream kept;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        const std::string t(trim(line));
        if (t.empty() || t[0] == '#' || t[0] == ';') continue;
        if (t.front() == '[') {
            if (t.back() != ']') {
                throw ConfigError(path + ":" + std::to_string(line_no) +
                                  ": malformed section header '" + t + "'");
            }
            section = std::string(trim(t.substr(1, t.size() - 2)));
            continue;
        }
        if (!section.empty() && section != command) continue;
        const auto eq = t.find('=');
        if (eq == std::string::npos) {
            throw ConfigError(path + ":" + std::to_string(line_no) +
                              ": expected 'key = value', got '" + t + "'");
        }
        const std::string key(trim(t.substr(0, eq)));
        if (options.find_nothrow(key, false) == nullptr || key == "config" || key == "help") {
            throw ConfigError(path + ":" + std::to_string(line_no) + ": unknown key '" + key +
                              "' for `kiln " + command + "` (see `kiln " + command + " --help`)");
        }
        kept << key << " = " << trim(t.substr(eq + 1)) << "\n";
    }
    return kept.str();
}

}  // namespace

CommandLine parse_command_line(const std::string& command, const std::vector<std::string>& args,
                               const po::options_description& options,
                               const po::positional_options_description& positional) {
    po::options_description all;
    po::options_description meta("General");
    meta.add_options()("help,h", "show this help")(
        "config", po::value<std::string>(),
        "read options from an INI file (the command line wins)");
    all.add(options).add(meta);
    CommandLine cl;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), cl.vm);
        if (cl.vm.count("help") != 0U) {
            cl.help = true;
            return cl;
        }
        if (cl.vm.count("config") != 0U) {
            const std::string path = cl.vm["config"].as<std::string>();
            std::istringstream text(select_config(path, command, options));
            try {
                po::store(po::parse_config_file(text, options, false), cl.vm);
            } catch (const po::error& e) {
                throw ConfigError("--config '" + path + "': " + e.what());
            }
        }
        po::notify(cl.vm);
    } catch (const po::error& e) {
        throw UsageError("kiln " + command + ": " + e.what() + " (see `kiln " + command +
                         " --help`)");
    }
    return cl;
}

void print_help(const std::string& command, const std::string& synopsis, const std::string& summary,
                const po::options_description& options) {
    std::cout << "Usage: kiln " << command << " " << synopsis << "\n\n"
              << summary << "\n\n"
              << options << "\nGeneral:\n  -h [ --help ]         show this help\n"
              << "  --config FILE         read options from an INI file, keys at top level or\n"
              << "                        in a [" << command
              << "] section; the command line wins\n";
}

int default_threads() {
    for (const char* name : {"SLURM_CPUS_PER_TASK", "OMP_NUM_THREADS"}) {
        if (const char* v = std::getenv(name); v != nullptr && std::atoi(v) > 0) {
            return std::atoi(v);
        }
    }
    if (mpi::launched_by_mpi()) return 1;
    return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
}

int threads_option(const po::variables_map& vm) {
    const int t = get_or(vm, "threads", default_threads());
    if (t < 1) throw ConfigError("--threads must be >= 1");
    return t;
}

bool agree_to_continue(const mpi::Comm& comm, const Status& status, int& exit_code) {
    if (!status.ok()) log::error(status.message);
    std::string text = std::to_string(static_cast<int>(status.code));
    comm.broadcast(text, 0);
    exit_code = std::atoi(text.c_str());
    return exit_code == 0;
}

void remove_leftovers(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) {
            log::info("removing leftover of an interrupted run: " + dir + "/" + name);
            ::unlink((dir + "/" + name).c_str());
        }
    }
    ::closedir(d);
}

std::string job_id() {
    const char* j = std::getenv("SLURM_JOB_ID");
    return j != nullptr ? j : "";
}

}  // namespace kiln::cli
