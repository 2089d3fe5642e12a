// `kiln infer DATA --model NAME[@V]`: a published model over every record of a dataset in one
// MPI job. Rank 0 plans work units (shard, row range), hands them out (tasks::run_units: pull
// based, >= 2 in flight per worker, a failed unit retried elsewhere) and journals each commit;
// a worker reads the unit's compositions, featurizes them, predicts through its Engine
// (replicas, result cache, batching) and commits DATA/predictions/NAME@V/shard-...h5.
#include <bit>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <unordered_set>

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/model_support.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/hash.hpp"
#include "kiln/core/log.hpp"
#include "kiln/core/progress.hpp"
#include "kiln/core/signals.hpp"
#include "kiln/core/units.hpp"
#include "kiln/core/version.hpp"
#include "kiln/core/wire.hpp"
#include "kiln/index/search.hpp"
#include "kiln/infer/engine.hpp"
#include "kiln/mpi/comm.hpp"
#include "kiln/store/catalog.hpp"
#include "kiln/store/layout.hpp"
#include "kiln/store/predictions.hpp"
#include "kiln/store/shard.hpp"
#include "kiln/tasks/journal.hpp"
#include "kiln/tasks/runner.hpp"

namespace kiln::cli {
namespace {

using Json = nlohmann::json;

struct Unit {
    std::uint64_t shard_id = 0;
    std::string shard_file;  // relative to DATA
    std::uint64_t row_begin = 0, row_end = 0;
    bool whole_shard = true;
};

std::string output_name(const Unit& u) {
    char buf[64];
    if (u.whole_shard) {
        std::snprintf(buf, sizeof buf, "shard-%06llu.h5",
                      static_cast<unsigned long long>(u.shard_id));
    } else {
        std::snprintf(buf, sizeof buf, "shard-%06llu-rows-%010llu.h5",
                      static_cast<unsigned long long>(u.shard_id),
                      static_cast<unsigned long long>(u.row_begin));
    }
    return buf;
}

// Units: each shard (an empty one too, so its predictions file says so), cut into ranges of
// at most unit_rows rows.
std::vector<Unit> plan_units(const store::Catalog& catalog, std::uint64_t unit_rows) {
    std::vector<Unit> units;
    for (const auto& s : catalog.shards) {
        if (s.records <= unit_rows) {
            units.push_back({s.id, s.file, 0, s.records, true});
            continue;
        }
        for (std::uint64_t b = 0; b < s.records; b += unit_rows)
            units.push_back({s.id, s.file, b, std::min(s.records, b + unit_rows), false});
    }
    return units;
}

struct Settings {
    std::string data;
    model::ModelId model;
    infer::EngineOptions engine;
    std::uint64_t unit_rows = 65536;
    int concurrent_units = 2;
    bool cache_persist = false;
    bool fsync = true;
    int max_attempts = 2;
    double progress_interval_s = 10;
    std::string metrics_path, summary_path;
};

// A worker's state: its engine (created at the first unit) and open shards. Runs
// `concurrent_units` units at once, on the runner's threads.
struct Worker {
    const Settings& s;
    const model::Servable& servable;
    const std::string& model_file;
    const infer::Featurizer& featurizer;
    std::unique_ptr<infer::Engine> engine;
    std::map<std::string, store::ShardReader> shards;
    std::mutex mutex;  // engine creation and shards

    infer::Engine& get_engine() {
        const std::lock_guard lock(mutex);
        if (!engine) {
            auto load = [this] {
                infer::Backend& backend = infer::load_backend("torch");
                const std::string device = infer::choose_device(
                    s.engine.device, backend.cuda_devices(), infer::node_local_rank());
                log::info("infer: replicas on " + device);
                return backend.load(model_file, device, s.engine.threads);
            };
            engine = std::make_unique<infer::Engine>(load, servable.sha256, servable.featurizer,
                                                     servable.input.row_width(),
                                                     servable.output.row_width(), s.engine);
            if (s.engine.cache && s.cache_persist) load_cache();
        }
        return *engine;
    }

    std::string cache_path() const { return s.data + "/cache/" + servable.sha256 + ".h5"; }

    void load_cache() {
        if (!fs::is_file(cache_path())) return;
        try {
            const store::CacheContents c = store::read_cache_file(cache_path());
            if (c.model_sha256 != servable.sha256 || c.featurizer != servable.featurizer) {
                log::warn(cache_path() + " belongs to another model or featurizer; not used");
                return;
            }
            engine->cache()->import_from(c);
        } catch (const Error& e) {  // damaged or unreadable: every row is a miss
            log::warn(std::string("result cache not used (it is rebuilt): ") + e.what());
        }
    }

    Json run(const Unit& u, const std::string& out_dir) {
        const std::string path = (std::filesystem::path(s.data) / u.shard_file).string();
        std::vector<std::uint64_t> rows;
        for (std::uint64_t r = u.row_begin; r < u.row_end; ++r) rows.push_back(r);
        std::vector<std::string> metadata;
        {
            const std::lock_guard lock(mutex);
            auto it = shards.find(path);
            if (it == shards.end()) it = shards.emplace(path, store::ShardReader(path)).first;
            metadata = it->second.metadata_at(rows);
        }

        store::Predictions p;
        p.shard_id = u.shard_id;
        p.row_begin = u.row_begin;
        p.row_end = u.row_end;
        infer::Matrix x{{}, 0, static_cast<std::int64_t>(featurizer.width())};
        std::vector<float> row(featurizer.width());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const std::uint64_t id = (u.shard_id << 32) | rows[i];
            const std::optional<std::string> comp = read_record_input(metadata[i]).composition;
            try {
                if (!comp) throw DataError("no composition");
                featurizer.featurize(composition_row(*comp), row);
            } catch (const DataError&) {
                p.skipped.push_back(id);
                continue;
            }
            x.values.insert(x.values.end(), row.begin(), row.end());
            ++x.rows;
            p.record_ids.push_back(id);
        }
        infer::Metrics mine;  // this unit's share of the engine's counters
        const infer::Matrix y = get_engine().predict(x, &mine);
        p.columns = static_cast<std::uint64_t>(y.cols);
        p.values.assign(y.values.begin(), y.values.end());
        p.provenance = {{"model", servable.name},
                        {"version", servable.version},
                        {"model_sha256", servable.sha256},
                        {"featurizer", servable.featurizer},
                        {"kiln_version", version() + " (" + git_hash() + ")"},
                        {"job_id", job_id()},
                        {"options",
                         {{"replicas", s.engine.replicas},
                          {"batch_max", s.engine.batch_max},
                          {"batch_delay_us", s.engine.batch_delay_us},
                          {"device", s.engine.device},
                          {"cache", s.engine.cache},
                          {"unit_rows", s.unit_rows}}}};
        store::write_predictions(out_dir + "/" + output_name(u), p, s.fsync);
        return {{"rows", rows.size()},
                {"predicted", p.record_ids.size()},
                {"skipped", p.skipped.size()},
                {"file", output_name(u)},
                {"metrics", mine.to_json()}};
    }
};

// Every rank's cache entries, merged on rank 0 into DATA/cache/SHA256.h5 (atomically).
void persist_cache(const mpi::Comm& comm, Worker& w, const Settings& s) {
    store::CacheContents mine;
    mine.columns = static_cast<std::uint64_t>(w.servable.output.row_width());
    if (w.engine && w.engine->cache() != nullptr) w.engine->cache()->export_to(mine);
    // Entries travel as u64s: key high, key low, then the values' bits.
    std::string packed;
    for (std::size_t e = 0; e < mine.key_high.size(); ++e) {
        wire::put_u64(packed, mine.key_high[e]);
        wire::put_u64(packed, mine.key_low[e]);
        for (std::uint64_t c = 0; c < mine.columns; ++c)
            wire::put_u64(packed, std::bit_cast<std::uint64_t>(mine.values[e * mine.columns + c]));
    }
    const auto parts = comm.gather(packed, 0);
    if (comm.rank() != 0) return;
    store::CacheContents all;
    all.model_sha256 = w.servable.sha256;
    all.featurizer = w.servable.featurizer;
    all.columns = mine.columns;
    std::unordered_set<Hash128, infer::CacheKeyHash> seen;
    for (const auto& part : parts) {
        wire::Reader in(part);
        while (!in.rest().empty()) {
            const Hash128 key{in.u64(), in.u64()};
            const bool fresh = seen.insert(key).second;
            for (std::uint64_t c = 0; c < all.columns; ++c) {
                const double v = std::bit_cast<double>(in.u64());
                if (fresh) all.values.push_back(v);
            }
            if (!fresh) continue;
            all.key_high.push_back(key.high);
            all.key_low.push_back(key.low);
        }
    }
    if (all.key_high.empty() && fs::is_file(w.cache_path())) return;  // keep what is there
    fs::make_dirs(s.data + "/cache");
    store::write_cache_file(w.cache_path(), all, s.fsync);
    log::info("infer: result cache of " + std::to_string(all.key_high.size()) + " rows saved to " +
              w.cache_path());
}

std::string prometheus_text(const Json& m, const std::string& model) {
    std::string out;
    for (const auto& [k, v] : m.items()) {
        out += "# TYPE " + k + " counter\n" + k + "{model=\"" + model + "\"} " + v.dump() + "\n";
    }
    return out;
}

// A committed unit counts on resume only when its file reads back whole (HDF5's Fletcher32
// checks every chunk); a missing or damaged one is recomputed, nothing else is.
bool predictions_intact(const std::string& path) {
    if (!fs::is_file(path)) return false;
    try {
        (void)store::read_predictions(path);
        return true;
    } catch (const Error& e) {
        log::warn(std::string("recomputing a damaged predictions file: ") + e.what());
        return false;
    }
}

}  // namespace

int run_infer(const Args& args) {
    po::options_description o("Options");
    o.add_options()("data", po::value<std::string>(), "dataset directory (positional)")(
        "model", po::value<std::string>(), "NAME or NAME@VERSION from the registry")(
        "replicas", po::value<int>()->default_value(1),
        "model replicas per rank, each on its own thread")(
        "batch-max", po::value<std::int64_t>()->default_value(65536),
        "most rows per model execution")(
        "batch-delay-us", po::value<std::int64_t>()->default_value(0),
        "how long a replica waits for a batch to fill before it runs fewer rows")(
        "concurrent-units", po::value<int>()->default_value(2),
        "units a rank works on at once: one is read and featurized while another's rows are "
        "in the model, and their rows can share batches")(
        "warmup-batches", po::value<int>()->default_value(2),
        "batches of zeros per replica before the first timed one")(
        "device", po::value<std::string>()->default_value("auto"),
        "cpu | cuda (node-local rank modulo visible GPUs) | cuda:N | auto (cuda if there is one)")(
        "threads", po::value<int>()->default_value(1), "LibTorch intra-op threads per rank")(
        "no-cache", po::bool_switch(), "no result cache")(
        "cache-bytes", po::value<std::string>()->default_value("1GiB"),
        "result cache size per rank")("cache-persist", po::bool_switch(),
                                      "load DATA/cache/SHA256.h5 at start, save it at the end")(
        "unit-rows", count_value(65536), "most records per work unit")(
        "max-attempts", po::value<int>()->default_value(2),
        "runs of a failing unit before it counts as failed")("no-fsync", po::bool_switch(),
                                                             "skip fsync (scratch data only)")(
        "progress-interval", po::value<double>()->default_value(10),
        "seconds between progress lines")("metrics", po::value<std::string>(),
                                          "Prometheus text file, rewritten at each progress line")(
        "summary", po::value<std::string>(), "also write the JSON summary here");
    add_models_option(o);
    po::positional_options_description pos;
    pos.add("data", 1);
    const CommandLine cl =
        parse_command_line("infer", args, o, pos, {{"no-cache", "cache-persist"}});
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("infer", "DATA --model NAME[@VERSION] [options]",
                   "Runs a published model over every record of DATA that has a composition, "
                   "in one MPI job, and writes DATA/predictions/NAME@VERSION/shard-*.h5. "
                   "Restartable: a rerun does only the units not yet committed.",
                   o);
        return 0;
    }
    if (cl.vm.count("data") == 0U || cl.vm.count("model") == 0U)
        throw UsageError("kiln infer: DATA and --model are required");
    Settings s;
    s.data = cl.vm["data"].as<std::string>();
    s.model = model::ModelId::parse(cl.vm["model"].as<std::string>());
    s.engine.replicas = cl.vm["replicas"].as<int>();
    s.engine.batch_max = cl.vm["batch-max"].as<std::int64_t>();
    s.engine.batch_delay_us = cl.vm["batch-delay-us"].as<std::int64_t>();
    s.engine.warmup_batches = cl.vm["warmup-batches"].as<int>();
    s.concurrent_units = cl.vm["concurrent-units"].as<int>();
    s.engine.device = cl.vm["device"].as<std::string>();
    s.engine.threads = cl.vm["threads"].as<int>();
    s.engine.cache = !cl.vm["no-cache"].as<bool>();
    s.engine.cache_bytes = static_cast<std::size_t>(
        parse_bytes(cl.vm["cache-bytes"].as<std::string>(), "--cache-bytes"));
    s.cache_persist = cl.vm["cache-persist"].as<bool>();
    s.unit_rows = count(cl.vm, "unit-rows");
    s.max_attempts = cl.vm["max-attempts"].as<int>();
    s.fsync = !cl.vm["no-fsync"].as<bool>();
    s.progress_interval_s = progress_interval(cl.vm);
    s.metrics_path = get_or<std::string>(cl.vm, "metrics", "");
    s.summary_path = get_or<std::string>(cl.vm, "summary", "");
    if (s.engine.replicas < 1 || s.engine.batch_max < 1 || s.engine.threads < 1 ||
        s.unit_rows < 1 || s.max_attempts < 1 || s.concurrent_units < 1)
        throw ConfigError(
            "--replicas, --batch-max, --threads, --unit-rows, --concurrent-units and "
            "--max-attempts must be >= 1");
    if (s.engine.batch_delay_us < 0 || s.engine.warmup_batches < 0)
        throw ConfigError("--batch-delay-us and --warmup-batches must be >= 0");

    install_stop_handlers();
    const mpi::Comm comm = mpi::Comm::world();
    log::set_rank(comm.rank());
    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };

    // Every rank reads the servable and checks the model's digest (a tampered file is refused
    // everywhere); rank 0 also plans and opens the journal.
    Status status;
    model::Servable servable;
    std::string model_file;
    const infer::Featurizer* featurizer = nullptr;
    const store::Layout layout(s.data);
    std::vector<Unit> units;
    std::unique_ptr<tasks::Journal> journal;
    std::vector<std::uint64_t> todo;
    std::string out_dir;
    std::uint64_t todo_rows = 0;
    try {
        const model::Registry registry = registry_from(cl.vm);
        servable = registry.servable(s.model);
        model_file = registry.checked_model_file(servable).string();
        featurizer = &featurizer_of(servable);
        const store::Catalog catalog = store::read_catalog(layout.catalog());
        units = plan_units(catalog, s.unit_rows);
        out_dir = s.data + "/predictions/" + servable.name + "@" + std::to_string(servable.version);
        if (comm.rank() == 0) {
            fs::make_dirs(out_dir);
            fs::make_dirs(layout.journal_dir());
            remove_leftovers(out_dir);
            Hasher128 plan;
            plan.update(servable.sha256.data(), servable.sha256.size());
            plan.update(servable.featurizer.data(), servable.featurizer.size());
            for (const auto& u : units) {
                const std::uint64_t v[3] = {u.shard_id, u.row_begin, u.row_end};
                plan.update(v, sizeof v);
            }
            journal = std::make_unique<tasks::Journal>(
                layout.journal_dir() + "/infer-" + servable.name + "@" +
                    std::to_string(servable.version) + ".jsonl",
                "infer", plan.digest().hex());
            for (std::uint64_t i = 0; i < units.size(); ++i) {
                const bool journaled = journal->committed().count(i) == 1;
                if (journaled && predictions_intact(out_dir + "/" + output_name(units[i]))) {
                    continue;
                }
                if (journaled) journal->forget(i);
                todo.push_back(i);
                todo_rows += units[i].row_end - units[i].row_begin;
            }
            log::info("infer: " + servable.name + "@" + std::to_string(servable.version) +
                      " over " + std::to_string(units.size()) + " units of " + s.data +
                      (todo.size() < units.size()
                           ? "; resuming: " + std::to_string(units.size() - todo.size()) +
                                 " units already committed"
                           : ""));
        }
    } catch (...) {
        status = Status::from_current_exception();
    }
    if (comm.rank() != 0 && !status.ok()) {  // rank 0 read the same files without trouble
        log::error(status.message);
        comm.abort(static_cast<int>(status.code));
    }
    int exit_code = 0;
    if (!agree_to_continue(comm, status, exit_code)) return exit_code;

    Worker worker{s, servable, model_file, *featurizer, nullptr, {}, {}};
    Progress progress("infer", "rows", todo_rows, 0, s.progress_interval_s);
    std::uint64_t done_rows = 0, predicted = 0, skipped = 0;
    infer::Metrics metrics;
    auto write_metrics = [&] {
        if (!s.metrics_path.empty())
            fs::write_file_atomic(
                s.metrics_path,
                prometheus_text(metrics.to_json(),
                                servable.name + "@" + std::to_string(servable.version)));
    };
    tasks::RunOptions run_options;
    run_options.max_attempts = s.max_attempts;
    run_options.run_at_once(s.concurrent_units);
    tasks::RunReport report;
    try {
        report = tasks::run_units(
            comm, todo, [](std::uint64_t unit) { return std::to_string(unit); },
            [&](std::uint64_t unit, int, const std::string&) {
                return worker.run(units.at(unit), out_dir).dump();
            },
            [&](std::uint64_t unit, const std::string& result) {
                const Json r = Json::parse(result);
                journal->append(unit, r);
                done_rows += r.value("rows", std::uint64_t{0});
                predicted += r.value("predicted", std::uint64_t{0});
                skipped += r.value("skipped", std::uint64_t{0});
                metrics.add(infer::Metrics::from_json(r["metrics"]));
            },
            [&] {
                progress.set_done(done_rows, 0);
                const double now = elapsed();
                if (progress.due(now) && done_rows < todo_rows) {
                    const double lookups =
                        static_cast<double>(metrics.cache_hits + metrics.cache_misses);
                    log::info(progress.line(
                        now, "cache hits " +
                                 format_fixed(
                                     lookups > 0
                                         ? 100.0 * static_cast<double>(metrics.cache_hits) / lookups
                                         : 0.0,
                                     1) +
                                 " %"));
                    write_metrics();
                }
            },
            [] { return stop_requested(); }, run_options);
    } catch (...) {
        status = Status::from_current_exception();
    }
    if (status.ok() && s.cache_persist && s.engine.cache) {
        try {
            persist_cache(comm, worker, s);
        } catch (...) {
            status = Status::from_current_exception();
        }
    }
    if (comm.rank() == 0 && status.ok()) {
        try {
            const double seconds = elapsed();
            Json failed = Json::array();
            for (const auto& [unit, message] : report.failed)
                failed.push_back({{"unit", unit}, {"error", message}});
            const Json summary = {
                {"command", "infer"},
                {"kiln_version", version()},
                {"dataset", s.data},
                {"model", servable.name + "@" + std::to_string(servable.version)},
                {"model_sha256", servable.sha256},
                {"job_id", job_id()},
                {"ranks", comm.size()},
                {"workers", report.workers},
                {"replicas_per_rank", s.engine.replicas},
                {"units_total", units.size()},
                {"units_run", report.done},
                {"units_resumed", units.size() - todo.size()},
                {"retries", report.retries},
                {"failed_units", failed},
                {"stopped_by_signal", report.stopped},
                {"rows", done_rows},
                {"predicted", predicted},
                {"skipped_no_composition", skipped},
                {"seconds", seconds},
                {"rows_per_s", seconds > 0 ? static_cast<double>(done_rows) / seconds : 0.0},
                {"metrics", metrics.to_json()}};
            status = run_outcome(report, todo.size());
            // The predictions become searchable as predicted.NAME once every unit is in. Also
            // on a rerun with nothing to do: an earlier run may have died before this step.
            if (report.complete()) {
                try {
                    const index::Dictionary d = index::Dictionary::open(
                        layout.dictionary(), store::read_catalog(layout.catalog()));
                    const auto u = index::update_index(layout.root(), d.policy, 1, s.fsync, false);
                    log::info("infer: index updated (" + std::to_string(u.segments_built) +
                              " segments rebuilt); search it as predicted." + servable.name);
                } catch (const NoInputError&) {
                    log::info("infer: the dataset has no search index; `kiln index " + s.data +
                              "` builds one with predicted." + servable.name);
                }
            }
            Json out = summary;
            out["exit_code"] = static_cast<int>(status.code);
            fs::write_file_atomic(out_dir + "/infer-summary.json", out.dump(2) + "\n");
            if (!s.summary_path.empty()) fs::write_file_atomic(s.summary_path, out.dump(2) + "\n");
            write_metrics();
            log::info("infer: " + std::to_string(done_rows) + " rows (" +
                      std::to_string(predicted) + " predicted, " + std::to_string(skipped) +
                      " without a usable composition) in " + format_fixed(seconds, 2) + " s (" +
                      format_fixed(out["rows_per_s"].get<double>(), 0) + " rows/s); " +
                      std::to_string(metrics.exec_count) + " model executions, " +
                      std::to_string(metrics.cache_hits) + " cache hits");
        } catch (...) {
            status = Status::from_current_exception();
        }
    }
    agree_to_continue(comm, status, exit_code);
    return exit_code;
}

}  // namespace kiln::cli
