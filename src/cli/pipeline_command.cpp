// `kiln --config JOB.ini`: a job file's steps (ingest, index, infer, search, ...) run one after
// the other inside one launch, so an sbatch script is one `srun kiln --config FILE`.
//
// Each step is the subcommand of the same name reading its own [section] of the file (exactly
// as `kiln STEP --config FILE` would), plus `--set STEP.KEY=VALUE` overrides from the command
// line. Before any rank starts work, rank 0 checks the whole job: every key of every step,
// every input, dataset and model it names; one bad step stops the job before the first runs.
// Steps that are collective under MPI (ingest, infer, search, get) run on every rank; the
// others on rank 0 while the rest wait. The first step that fails ends the job with its exit
// code; when all succeed rank 0 writes the [job] marker file (JSON), the proof of completion
// a batch script checks (sbatch's own exit code is not, see CLUSTER.md).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/job_file.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/log.hpp"
#include "kiln/core/signals.hpp"
#include "kiln/core/version.hpp"
#include "kiln/model/registry.hpp"
#include "kiln/mpi/comm.hpp"

namespace kiln::cli {
namespace {

namespace sfs = std::filesystem;

struct Step {
    std::string name;
    Args args;                                              // what `kiln NAME` receives
    std::map<std::string, std::vector<std::string>> value;  // after --set, for the checks
    std::map<std::string, std::string> where;               // "file:line" or "--set" of each key
};

struct Job {
    JobFile file;
    std::vector<Step> steps;
    std::string marker;
};

std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    std::string w;
    std::istringstream in(text);
    while (std::getline(in, w, ' ')) {
        std::istringstream parts(w);
        for (std::string part; std::getline(parts, part, ',');) {
            if (!part.empty()) out.push_back(part);
        }
    }
    return out;
}

// The steps named by [job] steps (default: every command section in file order).
std::vector<std::string> step_names(const JobFile& file, const std::string& listed,
                                    const std::string& where) {
    std::vector<std::string> names;
    if (!listed.empty()) {
        names = words(listed);
    } else {
        for (const std::string& s : file.section_order) {
            if (!s.empty() && s != "job") names.push_back(s);
        }
    }
    for (const std::string& s : file.section_order) {
        if (s.empty() || s == "job" || commands().count(s) != 0U) continue;
        throw ConfigError(file.path + ": unknown section [" + s +
                          "] (sections are [job] and kiln commands: ingest, index, infer, ...)");
    }
    if (names.empty()) throw ConfigError(file.path + ": no steps (add [job] steps = ...)");
    for (const std::string& n : names) {
        if (commands().count(n) == 0U || n == "model") {
            throw ConfigError(where + ": '" + n + "' is not a step kiln can run in a job");
        }
    }
    return names;
}

Job read_job(const std::string& path, const std::vector<std::string>& sets) {
    Job job{read_job_file(path), {}, {}};
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> overrides;
    std::string listed;
    std::string listed_where = path;
    for (const JobEntry& e : job.file.section("job")) {
        if (e.key == "steps") {
            listed = e.value;
            listed_where = job.file.where(e);
        } else if (e.key == "marker") {
            job.marker = e.value;
        } else {
            throw ConfigError(job.file.where(e) + ": unknown key '" + e.key +
                              "' in [job] (known: steps, marker)");
        }
    }
    if (!job.file.section("").empty()) {
        throw ConfigError(job.file.where(job.file.section("").front()) +
                          ": a job file's keys belong in a [section] (top-level key '" +
                          job.file.section("").front().key + "')");
    }
    for (const std::string& s : sets) {
        const auto dot = s.find('.');
        const auto eq = s.find('=');
        if (dot == std::string::npos || eq == std::string::npos || dot > eq) {
            throw UsageError("--set '" + s +
                             "': expected SECTION.KEY=VALUE (e.g. infer.replicas=2)");
        }
        const std::string section = s.substr(0, dot);
        const std::string key = s.substr(dot + 1, eq - dot - 1);
        const std::string value = s.substr(eq + 1);
        if (section == "job" && key == "steps") {
            listed = value;
            listed_where = "--set " + s;
        } else if (section == "job" && key == "marker") {
            job.marker = value;
        } else {
            overrides[section].emplace_back(key, value);
        }
    }
    const std::vector<std::string> names = step_names(job.file, listed, listed_where);
    for (const auto& [section, _] : overrides) {
        if (std::find(names.begin(), names.end(), section) == names.end()) {
            throw UsageError("--set " + section + ".*: the job has no step '" + section + "'");
        }
    }
    for (const std::string& name : names) {
        Step step{name, {"--config", path}, {}, {}};
        for (const JobEntry& e : job.file.section(name)) {
            step.value[e.key].push_back(e.value);
            step.where.emplace(e.key, job.file.where(e));
        }
        for (const auto& [key, value] : overrides[name]) {
            step.args.insert(step.args.end(), {"--set", key + "=" + value});
            step.value[key] = {value};
            step.where[key] = "--set " + name + "." + key;
        }
        job.steps.push_back(std::move(step));
    }
    return job;
}

// Runs `step` with --print-config: Boost checks every key and value as the real run would.
// The printout goes to `out`.
int check_options(const Step& step, std::ostream& out) {
    Args args = step.args;
    args.emplace_back("--print-config");
    std::streambuf* saved = std::cout.rdbuf(out.rdbuf());
    try {
        const int code = commands().at(step.name).run(args);
        std::cout.rdbuf(saved);
        return code;
    } catch (...) {
        std::cout.rdbuf(saved);
        throw;
    }
}

std::vector<std::string> values(const Step& step, const std::string& key) {
    const auto it = step.value.find(key);
    return it == step.value.end() ? std::vector<std::string>{} : it->second;
}

std::string value_or(const Step& step, const std::string& key) {
    const auto v = values(step, key);
    return v.empty() ? "" : v.front();
}

// The files a job names exist before any rank starts work: inputs, datasets (or an earlier
// step creates them) and models.
void check_inputs(const Job& job) {
    std::set<std::string> created;
    for (const Step& step : job.steps) {
        const auto where = [&](const std::string& key) {
            return step.where.count(key) != 0U ? step.where.at(key) : job.file.path;
        };
        if (step.name == "ingest") {
            for (const std::string& input : values(step, "input")) {
                if (!sfs::exists(input)) {
                    throw NoInputError(where("input") + ": [ingest] input '" + input +
                                       "' does not exist");
                }
            }
            if (!value_or(step, "out").empty()) created.insert(value_or(step, "out"));
            continue;
        }
        const std::string data = value_or(step, "data");
        if (!data.empty() && created.count(data) == 0U && !sfs::is_directory(data)) {
            throw NoInputError(where("data") + ": [" + step.name + "] dataset '" + data +
                               "' does not exist and no earlier ingest step creates it");
        }
        if (step.name == "infer" && !value_or(step, "model").empty()) {
            const model::Registry registry(model::Registry::default_root(value_or(step, "models")));
            try {
                (void)registry.resolve(model::ModelId::parse(value_or(step, "model")));
            } catch (const Error& e) {
                throw NoInputError(where("model") + ": [infer] model: " + e.what());
            }
        }
    }
}

// Rank 0 checks the job; every rank gets the verdict. Returns 0 to go on.
int preflight(const mpi::Comm& comm, const Job& job) {
    Status status;
    if (comm.rank() == 0) {
        try {
            for (const Step& step : job.steps) {
                std::ostringstream ignored;
                if (const int code = check_options(step, ignored); code != 0) {
                    status = {static_cast<ExitCode>(code), "[" + step.name + "] cannot run"};
                    break;
                }
            }
            if (status.ok()) check_inputs(job);
        } catch (const Error& e) {
            status = {e.code(), e.what()};
        }
    }
    int code = 0;
    agree_to_continue(comm, status, code);
    return code;
}

// Collective steps run on every rank; the others on rank 0, the verdict shared.
int run_step(const mpi::Comm& comm, const Step& step) {
    const Command& command = commands().at(step.name);
    int code = 0;
    if (command.may_use_mpi || comm.rank() == 0) {
        try {
            code = command.run(step.args);
        } catch (const Error& e) {
            log::error(e.what());
            code = static_cast<int>(e.code());
        }
    }
    return static_cast<int>(comm.all_reduce_max(static_cast<std::int64_t>(code)));
}

void write_marker(const Job& job, const nlohmann::json& steps) {
    const char* restarts = std::getenv("SLURM_RESTART_COUNT");
    const nlohmann::json marker = {
        {"job_file", job.file.path},
        {"slurm_job_id", job_id()},
        {"slurm_restart_count", restarts != nullptr ? std::atoi(restarts) : 0},
        {"kiln_version", version()},
        {"steps", steps},
        {"complete", true},
    };
    sfs::create_directories(sfs::absolute(job.marker).parent_path());
    kiln::fs::write_file_atomic(job.marker, marker.dump(2) + "\n");
    log::info("job complete: marker " + job.marker);
}

void print_help() {
    std::cout << "Usage: kiln --config JOB.ini [--set SECTION.KEY=VALUE]... [--print-config] "
                 "[--check]\n\n"
                 "Runs the steps of a job file in order inside one launch (mpiexec or srun):\n"
                 "each step is the kiln command of the same name reading its [section]. The\n"
                 "[job] section lists them (steps = ingest infer search) and names the marker\n"
                 "file written when every step succeeded (marker = DATA/job-complete.json).\n"
                 "Values may use ${VAR} and ${VAR:-default} from the environment.\n\n"
                 "  --set SECTION.KEY=VALUE  override one key (repeatable; beats the file)\n"
                 "  --print-config           print every step's effective options and where\n"
                 "                           each value came from, then stop\n"
                 "  --check                  check the job (keys, inputs, datasets, models), "
                 "then stop\n";
}

}  // namespace

int run_pipeline(const Args& args) {
    po::options_description o;
    o.add_options()("config", po::value<std::string>()->required())(
        "set", po::value<std::vector<std::string>>()->composing())("print-config", "")("check", "")(
        "help,h", "");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(o).run(), vm);
        if (vm.count("help") != 0U) {
            print_help();
            return 0;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(std::string("kiln --config: ") + e.what() +
                         " (see `kiln --config X --help`)");
    }
    const Job job =
        read_job(vm["config"].as<std::string>(), get_or(vm, "set", std::vector<std::string>{}));
    const mpi::Comm comm = mpi::Comm::world();
    if (vm.count("print-config") != 0U) {
        if (comm.rank() != 0) return 0;
        std::cout << "# job " << job.file.path << ": " << job.steps.size() << " steps\n";
        for (const Step& step : job.steps) {
            std::cout << "\n[" << step.name << "]\n";
            if (const int code = check_options(step, std::cout); code != 0) return code;
        }
        return 0;
    }
    install_stop_handlers();  // a signal between steps stops the job too, with exit 75
    if (const int code = preflight(comm, job); code != 0) return code;
    if (vm.count("check") != 0U) {
        if (comm.rank() == 0) log::info("job " + job.file.path + ": every step checks out");
        return 0;
    }
    if (const char* r = std::getenv("SLURM_RESTART_COUNT"); r != nullptr && comm.rank() == 0) {
        log::info("Slurm restart " + std::string(r) + " of job " + job_id() +
                  ": resuming from what earlier runs committed");
    }
    nlohmann::json done = nlohmann::json::array();
    for (std::size_t i = 0; i < job.steps.size(); ++i) {
        const Step& step = job.steps[i];
        if (comm.all_reduce_max(std::int64_t{stop_requested() ? 1 : 0}) != 0) {
            if (comm.rank() == 0) {
                log::info("stopped by signal " + std::to_string(stop_signal()) + " before step " +
                          step.name + "; rerun the job to resume");
            }
            return static_cast<int>(ExitCode::kStoppedEarly);
        }
        if (comm.rank() == 0) {
            log::info("step " + std::to_string(i + 1) + "/" + std::to_string(job.steps.size()) +
                      ": kiln " + step.name);
        }
        const auto start = std::chrono::steady_clock::now();
        const int code = run_step(comm, step);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        done.push_back({{"step", step.name}, {"exit_code", code}, {"seconds", seconds}});
        if (code != 0) {
            if (comm.rank() == 0) {
                log::error("step " + step.name + " failed with exit code " + std::to_string(code) +
                           "; later steps not run" +
                           (code == 75 ? " (rerun the job to resume)" : ""));
            }
            return code;
        }
    }
    if (comm.rank() == 0 && !job.marker.empty()) write_marker(job, done);
    return 0;
}

}  // namespace kiln::cli
