// The `kiln` subcommands. Each takes the arguments after its name and returns the exit code;
// errors are thrown as kiln::Error and mapped to exit codes by main.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace kiln::cli {

using Args = std::vector<std::string>;

int run_ingest(const Args& args);  // collective when started by an MPI launcher
int run_describe(const Args& args);
int run_verify(const Args& args);
int run_extract(const Args& args);  // one JSON line per record of each file
int run_search(const Args& args);   // collective when started by an MPI launcher
int run_get(const Args& args);
int run_fields(const Args& args);
int run_index(const Args& args);
int run_model(const Args& args);  // publish | list | describe | search | remove
int run_train(const Args& args);
int run_run(const Args& args);
int run_featurize(const Args& args);
int run_infer(const Args& args);  // collective when started by an MPI launcher
/// `kiln --config JOB.ini`: the steps of a job file in order (collective under MPI).
int run_pipeline(const Args& args);
/// `kiln --version`: version, git hash and build features.
void print_version();

struct Command {
    int (*run)(const Args&);
    bool may_use_mpi;  // initialise MPI when started by a launcher; collective then
    const char* summary;
};
/// Every subcommand by name (defined in main.cpp).
const std::map<std::string, Command>& commands();

}  // namespace kiln::cli
