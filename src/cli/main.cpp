// kiln: materials data ingest, search and batched model inference in one MPI job.
#include <boost/program_options/errors.hpp>
#include <exception>
#include <iostream>
#include <map>
#include <string>

#include "cli/commands.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/log.hpp"
#include "kiln/core/version.hpp"
#include "kiln/mpi/comm.hpp"
#include "kiln/store/catalog.hpp"

const std::map<std::string, kiln::cli::Command>& kiln::cli::commands() {
    static const std::map<std::string, Command> c = {
        {"ingest", {kiln::cli::run_ingest, true, "pack files into HDF5 shards (MPI-parallel)"}},
        {"describe", {kiln::cli::run_describe, false, "print a dataset's description and counts"}},
        {"verify", {kiln::cli::run_verify, false, "re-check every shard against the catalog"}},
        {"extract",
         {kiln::cli::run_extract, false, "print the metadata records of files as JSON lines"}},
        {"search", {kiln::cli::run_search, true, "find records with a Forge-style query"}},
        {"get", {kiln::cli::run_get, true, "write the files of matching records into a directory"}},
        {"fields", {kiln::cli::run_fields, false, "list every field with its type and count"}},
        {"index", {kiln::cli::run_index, false, "build or update a dataset's search index"}},
        {"model", {kiln::cli::run_model, false, "publish, list, describe, search, remove models"}},
        {"train", {kiln::cli::run_train, false, "train an ElemNet-style model on a dataset"}},
        {"run", {kiln::cli::run_run, false, "run a published model on a few inputs"}},
        {"infer", {kiln::cli::run_infer, true, "run a model over every record of a dataset (MPI)"}},
        {"featurize", {kiln::cli::run_featurize, false, "print the feature rows of formulas"}},
    };
    return c;
}

namespace {

void print_usage() {
    std::cout << "Usage: kiln [--version] [--help] <command> [options]\n"
                 "       kiln --config JOB.ini [--set SECTION.KEY=VALUE]... [--print-config] "
                 "[--check]\n\n"
                 "Commands:\n";
    for (const auto& [name, c] : kiln::cli::commands()) {
        std::cout << "  " << name << std::string(12 - name.size(), ' ') << c.summary << "\n";
    }
    std::cout << "\n`kiln <command> --help` explains each command's options.\n"
                 "Exit codes: 0 ok, 64 usage, 65 bad data, 66 no input, 70 internal error,\n"
                 "74 I/O error, 75 stopped early (rerun to resume), 78 configuration.\n";
}

int report(const kiln::Error& e) {
    kiln::log::error(e.what());
    return static_cast<int>(e.code());
}

}  // namespace

int main(int argc, char** argv) {
    const kiln::cli::Args all(argv + 1, argv + argc);
    if (all.empty() || all[0] == "--help" || all[0] == "-h" || all[0] == "help") {
        print_usage();
        return all.empty() ? static_cast<int>(kiln::ExitCode::kUsage) : 0;
    }
    if (all[0] == "--version" || all[0] == "-V") {
        kiln::cli::print_version();
        return 0;
    }
    // A job file instead of a command: its steps run in order (kiln --config jobs/pipeline.ini).
    const bool job = all[0] == "--config" || all[0].rfind("--config=", 0) == 0;
    const auto it = kiln::cli::commands().find(all[0]);
    if (!job && it == kiln::cli::commands().end()) {
        kiln::log::error("unknown command '" + all[0] + "' (see `kiln --help`)");
        return static_cast<int>(kiln::ExitCode::kUsage);
    }
    const bool use_mpi = (job || it->second.may_use_mpi) && kiln::mpi::launched_by_mpi();
    try {
        const kiln::mpi::Environment env(&argc, &argv, use_mpi);
        try {
            if (job) return kiln::cli::run_pipeline(all);
            return it->second.run(kiln::cli::Args(all.begin() + 1, all.end()));
        } catch (const kiln::Error& e) {
            return report(e);
        } catch (const std::bad_alloc&) {
            return report(kiln::Error("out of memory", kiln::ExitCode::kInternal));
        } catch (const std::exception& e) {
            return report(kiln::Error(std::string("internal error: ") + e.what()));
        }
    } catch (const kiln::Error& e) {
        return report(e);
    }
}
