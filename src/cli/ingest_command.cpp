#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/log.hpp"
#include "kiln/core/progress.hpp"
#include "kiln/core/signals.hpp"
#include "kiln/core/units.hpp"
#include "kiln/core/version.hpp"
#include "kiln/index/search.hpp"
#include "kiln/ingest/ingest.hpp"
#include "kiln/mpi/comm.hpp"
#include "kiln/tasks/journal.hpp"
#include "kiln/tasks/runner.hpp"

namespace kiln::cli {
namespace {

constexpr const char* kSummary =
    "Packs files (directories are walked; tar/zip archives are opened) into HDF5 shards under\n"
    "DATA/shards, one shard per work unit, with a record per file: path, size, xxh3-128,\n"
    "libmagic MIME type and description, detected format, and the file's bytes. Rank 0 plans\n"
    "and hands out units; other ranks write shards. Rerunning the same command resumes an\n"
    "interrupted ingest: committed shards are kept and only the rest is done.";

struct Settings {
    std::vector<std::string> inputs;
    std::string out;
    ingest::IngestOptions options;
    // The dataset's DataCite block, built (and its --author checked) before anything is written.
    nlohmann::json dc;
    double progress_interval_s = 10;
    int max_attempts = 2;
    int concurrent_units = 2;
    std::string summary_path;
};

po::options_description describe_options() {
    po::options_description o("Options");
    o.add_options()("input", po::value<std::vector<std::string>>()->composing(),
                    "files or directories to ingest (positional, one or more)")(
        "out,o", po::value<std::string>(), "dataset directory DATA to create or resume (required)")(
        "source", po::value<std::string>(),
        "mdf.source_name of every record (default: DATA's name)")(
        "shard-bytes", po::value<std::string>()->default_value("256MiB"),
        "planned bytes per shard (k, M, G suffixes are powers of 1024)")(
        "shard-files", count_value(4096), "files per shard at most")(
        "no-pack", po::bool_switch(), "record references only; do not copy file bytes into shards")(
        "threads", po::value<int>(),
        "threads per rank walking the inputs, reading and identifying files "
        "(default: SLURM_CPUS_PER_TASK, OMP_NUM_THREADS, 1 under mpirun, else all cores)")(
        "concurrent-units", po::value<int>()->default_value(2),
        "shards a rank writes at once (at most --threads), each with --threads / units threads "
        "(rounded up): one shard's commit overlaps the next one's reading and writing")(
        "no-archives", po::bool_switch(), "do not turn tar/zip members into records")(
        "archive-max-ratio", po::value<double>()->default_value(200),
        "stop expanding an archive past this many times its own size")(
        "archive-max-bytes", po::value<std::string>()->default_value("8GiB"),
        "stop expanding an archive past this many bytes")(
        "archive-max-members", count_value(1000000), "members per archive at most")(
        "magic", po::value<std::string>()->default_value("fast"),
        "libmagic depth: fast (built-in tests, 5-10 us/file) or full (every test, as `file`)")(
        "no-extract", po::bool_switch(), "skip metadata extraction (generic fields only)")(
        "group-by-dir", po::bool_switch(),
        "one more record per directory, merging its files' records (default: per VASP run, "
        "as MDF Connect)")("no-group", po::bool_switch(),
                           "no merged records of VASP runs or directories")(
        "symprec", po::value<double>()->default_value(0.01),
        "spglib symmetry tolerance, Angstrom; 0: no space group (spglib is most of the time of CIF "
        "and POSCAR)")("follow-links", po::bool_switch(),
                       "follow symbolic links that lead outside the input root")(
        "no-fsync", po::bool_switch(),
        "do not fsync at commit (safe against killed processes, "
        "not against a node crash)")("title", po::value<std::string>(), "dataset title (DataCite)")(
        "author", po::value<std::vector<std::string>>()->composing(),
        "\"Family, Given\" (repeatable)")(
        "affiliation", po::value<std::vector<std::string>>()->composing(),
        "affiliation (repeatable: one for all authors, or one per author)")(
        "description", po::value<std::string>(), "dataset description")(
        "tag", po::value<std::vector<std::string>>()->composing(), "subject keyword (repeatable)")(
        "doi", po::value<std::string>(), "dataset DOI")(
        "progress-interval", po::value<double>()->default_value(10),
        "seconds between progress lines")("max-attempts", po::value<int>()->default_value(2),
                                          "runs of a failing unit before it fails")(
        "summary", po::value<std::string>(), "also write the JSON summary to this file")(
        "no-index", po::bool_switch(), "do not build the search index (`kiln index` can later)")(
        "keyword-field", po::value<std::vector<std::string>>()->composing(),
        "also index this field's exact values (repeatable; 'custom.*' for a prefix)");
    return o;
}

template <typename T>
T get_or(const po::variables_map& vm, const char* key, T fallback) {
    return vm.count(key) != 0U ? vm[key].as<T>() : fallback;
}

Settings read_settings(const po::variables_map& vm) {
    Settings s;
    s.inputs = get_or(vm, "input", std::vector<std::string>{});
    if (s.inputs.empty())
        throw UsageError("kiln ingest: no INPUT given (see `kiln ingest --help`)");
    if (vm.count("out") == 0U) throw UsageError("kiln ingest: --out DATA is required");
    s.out = vm["out"].as<std::string>();
    auto& o = s.options;
    std::string base = s.out;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    o.source = get_or(vm, "source", base.substr(base.find_last_of('/') + 1));
    o.shard_bytes = parse_bytes(vm["shard-bytes"].as<std::string>(), "--shard-bytes");
    if (o.shard_bytes == 0) throw ConfigError("--shard-bytes must be > 0");
    o.shard_files = count(vm, "shard-files");
    if (o.shard_files == 0) throw ConfigError("--shard-files must be > 0");
    o.pack = !vm["no-pack"].as<bool>();
    o.expand_archives = !vm["no-archives"].as<bool>();
    o.archive_max_ratio = vm["archive-max-ratio"].as<double>();
    if (!(o.archive_max_ratio > 0)) throw ConfigError("--archive-max-ratio must be > 0");
    o.archive_max_bytes =
        parse_bytes(vm["archive-max-bytes"].as<std::string>(), "--archive-max-bytes");
    o.archive_max_members = count(vm, "archive-max-members");
    o.follow_links = vm["follow-links"].as<bool>();
    const std::string magic = vm["magic"].as<std::string>();
    if (magic != "fast" && magic != "full") {
        throw ConfigError("--magic '" + magic + "': expected fast or full");
    }
    o.magic = magic == "full" ? extract::MagicMode::kFull : extract::MagicMode::kFast;
    o.extract = !vm["no-extract"].as<bool>();
    if (vm["group-by-dir"].as<bool>() && vm["no-group"].as<bool>())
        throw ConfigError("--group-by-dir and --no-group: choose one");
    o.group = vm["no-group"].as<bool>() ? "none" : vm["group-by-dir"].as<bool>() ? "dir" : "vasp";
    o.symprec = vm["symprec"].as<double>();
    if (!(o.symprec >= 0) || !std::isfinite(o.symprec))
        throw ConfigError("--symprec must be a tolerance >= 0 in Angstrom (0: no space group)");
    o.fsync = !vm["no-fsync"].as<bool>();
    o.threads = get_or(vm, "threads", default_threads());
    o.index = !vm["no-index"].as<bool>();
    for (const auto& f : get_or(vm, "keyword-field", std::vector<std::string>{})) {
        o.index_policy.keyword_fields.push_back(f);
    }
    if (o.threads < 1) throw ConfigError("--threads must be >= 1");
    s.concurrent_units = vm["concurrent-units"].as<int>();
    if (s.concurrent_units < 1) throw ConfigError("--concurrent-units must be >= 1");
    ingest::DatasetMetadata m;
    m.title = get_or(vm, "title", o.source);
    m.authors = get_or(vm, "author", std::vector<std::string>{});
    m.affiliations = get_or(vm, "affiliation", std::vector<std::string>{});
    m.description = get_or(vm, "description", std::string{});
    m.tags = get_or(vm, "tag", std::vector<std::string>{});
    m.doi = get_or(vm, "doi", std::string{});
    s.dc = ingest::datacite_block(m);
    s.progress_interval_s = progress_interval(vm);
    s.max_attempts = vm["max-attempts"].as<int>();
    if (s.max_attempts < 1) throw ConfigError("--max-attempts must be >= 1");
    s.summary_path = get_or(vm, "summary", std::string{});
    return s;
}

// Rank 0's view of the job.
struct Manager {
    Settings& s;
    store::Layout layout;
    ingest::IngestPlan plan;
    std::unique_ptr<tasks::Journal> journal;
    std::vector<std::uint64_t> todo;
    std::uint64_t run_files = 0;
    std::uint64_t run_bytes = 0;
    bool resumed_complete = false;

    void prepare() {
        fs::make_dirs(layout.root());
        if (::access(layout.root().c_str(), W_OK) != 0) {
            throw IoError(
                errno_message("output directory '" + layout.root() + "' is not writable"));
        }
        fs::make_dirs(layout.shards_dir());
        fs::make_dirs(layout.journal_dir());
        if (s.options.index) fs::make_dirs(layout.index_dir());
        std::vector<std::string> roots;
        for (const auto& in : s.inputs) {
            char* r = ::realpath(in.c_str(), nullptr);
            roots.emplace_back(r != nullptr ? r : in);
            std::free(r);
        }
        auto files = ingest::walk_inputs(s.inputs, {s.options.follow_links, s.options.threads});
        plan = ingest::plan_ingest(std::move(files), s.options, roots);
        journal = std::make_unique<tasks::Journal>(layout.journal_dir() + "/ingest.jsonl", "ingest",
                                                   plan.digest);
        remove_leftovers(layout.shards_dir());
        remove_leftovers(layout.index_dir());
        remove_leftovers(layout.root());
        std::uint64_t resumed = 0;
        for (const auto& u : plan.units) {
            const bool journaled = journal->committed().count(u.shard_id) == 1;
            if (journaled && fs::is_file(layout.shard(u.shard_id))) {
                ++resumed;
                continue;
            }
            if (journaled) journal->forget(u.shard_id);
            todo.push_back(u.shard_id);
            for (const auto& f : u.files) {
                ++run_files;
                run_bytes += f.size;
            }
        }
        resumed_complete = todo.empty() && fs::is_file(layout.catalog());
        log::info(
            "ingest: " + std::to_string(plan.total_files) + " files, " +
            format_bytes(static_cast<double>(plan.total_bytes)) + " in " +
            std::to_string(plan.units.size()) + " shards (plan " + plan.digest.substr(0, 12) + ")" +
            (resumed > 0 ? "; resuming: " + std::to_string(resumed) + " shards already committed"
                         : ""));
    }
};

}  // namespace

int run_ingest(const Args& args) {
    const auto options = describe_options();
    po::positional_options_description pos;
    pos.add("input", -1);
    const CommandLine cl = parse_command_line("ingest", args, options, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("ingest", "INPUT... --out DATA [options]", kSummary, options);
        return 0;
    }
    Settings s = read_settings(cl.vm);
    install_stop_handlers();
    const mpi::Comm comm = mpi::Comm::world();
    log::set_rank(comm.rank());
    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };

    Manager manager{s, store::Layout(s.out), {}, nullptr, {}, 0, 0, false};
    Status status;
    if (comm.rank() == 0) {
        try {
            manager.prepare();
        } catch (...) {
            status = Status::from_current_exception();
        }
    }
    int exit_code = 0;
    if (!agree_to_continue(comm, status, exit_code)) return exit_code;

    const store::Layout layout(s.out);
    Progress progress("ingest", "files", manager.run_files, manager.run_bytes,
                      s.progress_interval_s);
    std::uint64_t done_files = 0;
    std::uint64_t done_bytes = 0;
    std::uint64_t done_records = 0;
    std::uint64_t done_errors = 0;
    std::map<std::uint64_t, const ingest::UnitSpec*> by_id;
    for (const auto& u : manager.plan.units) by_id[u.shard_id] = &u;

    tasks::RunOptions run_options;
    run_options.max_attempts = s.max_attempts;
    // A rank writes up to `units` shards at once, sharing its threads among them: while one
    // shard is closed and checksummed, the next one's files are read and written.
    const int units = std::min(s.concurrent_units, s.options.threads);
    run_options.run_at_once(units);
    ingest::IngestOptions unit_options = s.options;
    unit_options.threads = (s.options.threads + units - 1) / units;
    tasks::RunReport report;
    try {
        report = tasks::run_units(
            comm, manager.todo,
            [&](std::uint64_t unit) { return ingest::encode_unit(*by_id.at(unit)); },
            [&](std::uint64_t, int, const std::string& payload) {
                return ingest::ingest_unit(ingest::decode_unit(payload), layout, unit_options)
                    .dump();
            },
            [&](std::uint64_t unit, const std::string& result) {
                const auto r = nlohmann::json::parse(result);
                manager.journal->append(unit, r);
                for (const auto& f : by_id.at(unit)->files) done_bytes += f.size;
                done_files += by_id.at(unit)->files.size();
                done_records += r.value("records", std::uint64_t{0});
                done_errors += r.value("errors", std::uint64_t{0});
            },
            [&] {
                progress.set_done(done_files, done_bytes);
                const double now = elapsed();
                if (progress.due(now) && done_files < manager.run_files) {
                    log::info(progress.line(now, std::to_string(done_errors) + " record errors"));
                }
            },
            [] { return stop_requested(); }, run_options);
    } catch (...) {
        status = Status::from_current_exception();
    }

    if (comm.rank() == 0 && status.ok()) {
        try {
            const double seconds = elapsed();
            nlohmann::json failed = nlohmann::json::array();
            for (const auto& [unit, message] : report.failed) {
                failed.push_back({{"unit", unit}, {"error", message}});
            }
            const bool complete = report.complete();
            if (complete && !manager.resumed_complete) {
                store::write_catalog(
                    layout.catalog(),
                    ingest::build_catalog(manager.plan, manager.journal->committed(), s.dc,
                                          s.options));
            }
            if (complete && s.options.index) {
                const auto u = index::update_index(layout.root(), s.options.index_policy,
                                                   s.options.threads, s.options.fsync, false);
                if (u.segments_built > 0) {
                    log::info("index: built " + std::to_string(u.segments_built) +
                              " segments that were missing or out of date");
                }
            }
            nlohmann::json summary = {
                {"command", "ingest"},
                {"kiln_version", version()},
                {"dataset", layout.root()},
                {"job_id", job_id()},
                {"ranks", comm.size()},
                {"workers", report.workers},
                {"threads_per_rank", s.options.threads},
                {"concurrent_units", units},
                {"units_total", manager.plan.units.size()},
                {"units_run", report.done},
                {"units_resumed", manager.plan.units.size() - manager.todo.size()},
                {"retries", report.retries},
                {"failed_units", failed},
                {"stopped_by_signal", report.stopped},
                {"files", done_files},
                {"records", done_records},
                {"record_errors", done_errors},
                {"bytes", done_bytes},
                {"seconds", seconds},
                {"files_per_s", seconds > 0 ? static_cast<double>(done_files) / seconds : 0.0},
                {"mb_per_s", seconds > 0 ? static_cast<double>(done_bytes) / seconds / 1e6 : 0.0},
                {"complete", complete}};
            status = run_outcome(report, manager.todo.size());
            summary["exit_code"] = static_cast<int>(status.code);
            if (!manager.resumed_complete) {
                fs::write_file_atomic(layout.root() + "/ingest-summary.json",
                                      summary.dump(2) + "\n");
            }
            if (!s.summary_path.empty())
                fs::write_file_atomic(s.summary_path, summary.dump(2) + "\n");
            if (manager.resumed_complete) {
                log::info(
                    "ingest: nothing to do, every shard of this plan is committed and the "
                    "catalog exists");
            } else {
                log::info("ingest: " + std::to_string(done_files) + " files, " +
                          std::to_string(done_records) + " records (" +
                          std::to_string(done_errors) + " with errors), " +
                          format_bytes(static_cast<double>(done_bytes)) + " in " +
                          format_fixed(seconds, 2) + " s (" +
                          format_fixed(summary["files_per_s"].get<double>(), 1) + " files/s, " +
                          format_fixed(summary["mb_per_s"].get<double>(), 1) + " MB/s), " +
                          std::to_string(comm.size()) + " ranks");
            }
        } catch (...) {
            status = Status::from_current_exception();
        }
    }
    agree_to_continue(comm, status, exit_code);
    return exit_code;
}

}  // namespace kiln::cli
