#include "cli/command_line.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/job_file.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/log.hpp"
#include "kiln/core/signals.hpp"
#include "kiln/core/text.hpp"
#include "kiln/mpi/comm.hpp"
#include "kiln/tasks/runner.hpp"

namespace kiln::cli {
namespace {

using Sources = std::map<std::string, std::string>;

void check_key(const po::options_description& options, const std::string& key,
               const std::string& where, const std::string& command) {
    if (options.find_nothrow(key, false) == nullptr) {
        throw ConfigError(where + ": unknown key '" + key + "' for `kiln " + command +
                          "` (see `kiln " + command + " --help`)");
    }
}

// One key of a lower-precedence source: where an error points, and the origin
// --print-config shows.
struct Entry {
    std::string key, value, where, origin;
};

// Stores one source's entries below what earlier sources gave: every key is checked against
// `options`, and a key already given is skipped (Boost would join a list option's values).
void store_below(const std::vector<Entry>& entries, const std::string& command,
                 const po::options_description& options, CommandLine& cl) {
    const Sources given = cl.source;
    std::ostringstream text;
    for (const Entry& e : entries) {
        check_key(options, e.key, e.where, command);
        if (given.count(e.key) != 0U) continue;
        text << e.key << " = " << e.value << "\n";
        cl.source.emplace(e.key, e.origin);
    }
    std::istringstream in(text.str());
    po::store(po::parse_config_file(in, options, false), cl.vm);
}

// --set KEY=VALUE overrides: between the command line and the job file.
std::vector<Entry> override_entries(const std::vector<std::string>& sets) {
    std::vector<Entry> out;
    for (const std::string& s : sets) {
        const auto eq = s.find('=');
        if (eq == std::string::npos) throw UsageError("--set '" + s + "': expected KEY=VALUE");
        out.push_back({std::string(trim(s.substr(0, eq))), std::string(trim(s.substr(eq + 1))),
                       "--set '" + s + "'", "--set"});
    }
    return out;
}

// The top-level keys of the job file and those of its [command] section.
std::vector<Entry> job_file_entries(const std::string& path, const std::string& command) {
    const JobFile file = read_job_file(path);
    std::vector<Entry> out;
    for (const std::string& section : {std::string(), command}) {
        for (const JobEntry& e : file.section(section)) {
            out.push_back({e.key, e.value, file.where(e), file.where(e)});
        }
    }
    return out;
}

std::string value_text(const boost::any& v) {
    if (const auto* s = boost::any_cast<std::string>(&v)) return *s;
    if (const auto* b = boost::any_cast<bool>(&v)) return *b ? "true" : "false";
    if (const auto* i = boost::any_cast<int>(&v)) return std::to_string(*i);
    if (const auto* l = boost::any_cast<long>(&v)) return std::to_string(*l);
    if (const auto* c = boost::any_cast<Count>(&v)) return std::to_string(c->value);
    if (const auto* d = boost::any_cast<double>(&v)) {
        std::ostringstream text;
        text << *d;
        return text.str();
    }
    if (const auto* list = boost::any_cast<std::vector<std::string>>(&v)) {
        std::string out;
        for (const std::string& item : *list) out += (out.empty() ? "" : ", ") + item;
        return out;
    }
    return "(set)";
}

// One `key = value  # source` line per option; options without a value are commented out.
void print_effective_config(const std::string& command, const po::options_description& options,
                            const po::variables_map& vm, const Sources& source) {
    std::cout << "# effective configuration of `kiln " << command << "`\n";
    for (const auto& option : options.options()) {
        const std::string key = option->long_name();
        const auto it = vm.find(key);
        if (it == vm.end() || it->second.empty()) {
            std::cout << "# " << key << " = (not set)\n";
            continue;
        }
        const auto from = source.find(key);
        const std::string origin = from != source.end()     ? from->second
                                   : it->second.defaulted() ? "default"
                                                            : "command line";
        std::cout << key << " = " << value_text(it->second.value()) << "    # " << origin << "\n";
    }
}

void reject_together(const CommandLine& cl, const std::string& a, const std::string& b) {
    const auto given = [&](const std::string& key) {
        const auto it = cl.vm.find(key);
        if (it == cl.vm.end() || it->second.empty() || it->second.defaulted()) return false;
        const auto* on = boost::any_cast<bool>(&it->second.value());
        return on == nullptr || *on;
    };
    if (!given(a) || !given(b)) return;
    const auto from = [&](const std::string& key) {
        const auto it = cl.source.find(key);
        return it == cl.source.end() ? std::string("command line") : it->second;
    };
    throw UsageError("--" + a + " (" + from(a) + ") and --" + b + " (" + from(b) +
                     ") cannot be used together; give only one of them");
}

}  // namespace

CommandLine parse_command_line(const std::string& command, const std::vector<std::string>& args,
                               const po::options_description& options,
                               const po::positional_options_description& positional,
                               const std::vector<std::pair<std::string, std::string>>& conflicts) {
    po::options_description all;
    po::options_description meta("General");
    meta.add_options()("help,h", "show this help")(
        "config", po::value<std::string>(),
        "read options from an INI file (the command line wins)")(
        "set", po::value<std::vector<std::string>>(), "override one key of the INI file")(
        "print-config", "print the effective options and where each came from, then stop");
    all.add(options).add(meta);
    CommandLine cl;
    try {
        const po::parsed_options parsed =
            po::command_line_parser(args).options(all).positional(positional).run();
        po::store(parsed, cl.vm);
        for (const po::option& o : parsed.options) cl.source.emplace(o.string_key, "command line");
        if (cl.vm.count("help") != 0U) {
            cl.help = true;
            return cl;
        }
        if (cl.vm.count("set") != 0U) {
            store_below(override_entries(cl.vm["set"].as<std::vector<std::string>>()), command,
                        options, cl);
        }
        if (cl.vm.count("config") != 0U) {
            const std::string path = cl.vm["config"].as<std::string>();
            try {
                store_below(job_file_entries(path, command), command, options, cl);
            } catch (const po::error& e) {
                throw ConfigError("--config '" + path + "': " + e.what());
            }
        }
        po::notify(cl.vm);
    } catch (const po::error& e) {
        throw UsageError("kiln " + command + ": " + e.what() + " (see `kiln " + command +
                         " --help`)");
    }
    for (const auto& [a, b] : conflicts) reject_together(cl, a, b);
    if (cl.vm.count("print-config") != 0U) {
        print_effective_config(command, options, cl.vm, cl.source);
        cl.print_config = true;
    }
    return cl;
}

void print_help(const std::string& command, const std::string& synopsis, const std::string& summary,
                const po::options_description& options) {
    std::cout << "Usage: kiln " << command << " " << synopsis << "\n\n"
              << summary << "\n\n"
              << options << "\nGeneral:\n  -h [ --help ]         show this help\n"
              << "  --config FILE         read options from an INI file, keys at top level or\n"
              << "                        in a [" << command << "] section; the command line wins\n"
              << "  --set KEY=VALUE       override one key of the INI file (repeatable)\n"
              << "  --print-config        print the effective options and where each came\n"
              << "                        from, then stop\n";
}

void validate(boost::any& out, const std::vector<std::string>& values, Count* /*type*/,
              int /*overload*/) {
    po::validators::check_first_occurrence(out);
    const std::string& text = po::validators::get_single_string(values);
    Count c;
    const char* end = text.data() + text.size();
    const auto [last, ec] = std::from_chars(text.data(), end, c.value);
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])) || ec != std::errc{} ||
        last != end) {
        po::error_with_option_name e(
            "the argument ('%value%') for option '%canonical_option%' is invalid: expected a "
            "whole number, 0 or more");
        e.set_substitute("value", text);
        throw e;
    }
    out = c;
}

po::typed_value<Count>* count_value(std::uint64_t fallback) {
    return po::value<Count>()->default_value(Count{fallback}, std::to_string(fallback));
}

std::uint64_t count(const po::variables_map& vm, const char* key) {
    return vm[key].as<Count>().value;
}

double progress_interval(const po::variables_map& vm) {
    const double s = vm["progress-interval"].as<double>();
    if (!(s >= 0) || !std::isfinite(s))
        throw ConfigError("--progress-interval must be a number of seconds >= 0");
    return s;
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

Status run_outcome(const tasks::RunReport& report, std::size_t units) {
    if (!report.io_error.empty()) {
        return {ExitCode::kIoError, "I/O error: " + report.io_error +
                                        "; free space or mend the file system, then rerun the "
                                        "same command (committed units are kept)"};
    }
    if (!report.failed.empty()) {
        const auto& [unit, message] = *report.failed.begin();
        return {ExitCode::kDataError, std::to_string(report.failed.size()) + " of " +
                                          std::to_string(units) + " units failed (first: unit " +
                                          std::to_string(unit) + ": " + message +
                                          "); rerun the same command to retry them"};
    }
    if (report.stopped) {
        return {ExitCode::kStoppedEarly,
                "stopped by signal " + std::to_string(stop_signal()) + " after " +
                    std::to_string(report.done) +
                    " units; committed work is kept, rerun the same command to resume"};
    }
    return {};
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
    const auto env = [](const char* name) -> std::string {
        const char* v = std::getenv(name);
        return v != nullptr ? v : "";
    };
    // An array task is named as Slurm names its output files: ARRAYJOB_TASK.
    if (!env("SLURM_ARRAY_JOB_ID").empty() && !env("SLURM_ARRAY_TASK_ID").empty()) {
        return env("SLURM_ARRAY_JOB_ID") + "_" + env("SLURM_ARRAY_TASK_ID");
    }
    return env("SLURM_JOB_ID");
}

}  // namespace kiln::cli
