// `kiln train DATA --target FIELD --featurizer F --name N`: an ElemNet-style network trained
// with LibTorch on a dataset's records, saved as TorchScript and published with its metrics
// beside two baselines measured on the same split (the mean, and a linear model).
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numeric>

#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/model_support.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/log.hpp"
#include "kiln/infer/training.hpp"
#include "kiln/store/catalog.hpp"
#include "kiln/store/layout.hpp"
#include "kiln/store/shard.hpp"

namespace kiln::cli {
namespace {

// "1024x4,512x3,32" -> 1024 1024 1024 1024 512 512 512 32.
std::vector<int> parse_layers(const std::string& text) {
    std::vector<int> out;
    std::string_view rest = text;
    while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        const std::string item(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        const std::size_t x = item.find('x');
        char* end = nullptr;
        const long width = std::strtol(item.c_str(), &end, 10);
        long repeat = 1;
        bool ok = width >= 1 && width <= 65536 &&
                  end == item.c_str() + (x == std::string::npos ? item.size() : x);
        if (ok && x != std::string::npos) {
            repeat = std::strtol(item.c_str() + x + 1, &end, 10);
            ok = repeat >= 1 && repeat <= 64 && *end == '\0';
        }
        if (!ok)
            throw UsageError("--layers '" + text +
                             "': expected WIDTH or WIDTHxREPEAT items, e.g. 1024x4,512x3,32");
        out.insert(out.end(), static_cast<std::size_t>(repeat), static_cast<int>(width));
    }
    if (out.empty()) throw UsageError("--layers: at least one hidden layer");
    return out;
}

struct Examples {
    infer::Matrix x;
    std::vector<float> y;
    std::size_t records = 0, no_target = 0, not_featurized = 0;
    std::string first_problem;
};

Examples read_examples(const std::string& data, const std::string& target,
                       const infer::Featurizer& f) {
    const store::Layout layout(data);
    const store::Catalog catalog = store::read_catalog(layout.catalog());
    Examples ex;
    ex.x.cols = static_cast<std::int64_t>(f.width());
    std::vector<float> row(f.width());
    for (const auto& shard : catalog.shards) {
        const store::ShardReader reader(
            (std::filesystem::path(layout.root()) / shard.file).string());
        for (const auto& r : reader.records()) {
            ++ex.records;
            const RecordInput in = read_record_input(r.metadata_json, target);
            if (!in.target || !in.composition) {
                ++ex.no_target;
                continue;
            }
            try {
                f.featurize(composition_row(*in.composition), row);
            } catch (const DataError& e) {
                if (ex.first_problem.empty()) ex.first_problem = r.path + ": " + e.what();
                ++ex.not_featurized;
                continue;
            }
            ex.x.values.insert(ex.x.values.end(), row.begin(), row.end());
            ex.y.push_back(static_cast<float>(*in.target));
        }
    }
    ex.x.rows = static_cast<std::int64_t>(ex.y.size());
    return ex;
}

}  // namespace

int run_train(const Args& args) {
    po::options_description o("Options");
    const infer::TrainSpec defaults;
    o.add_options()("data", po::value<std::string>(), "dataset directory (positional)")(
        "target", po::value<std::string>(), "numeric record field to predict (dotted name)")(
        "featurizer", po::value<std::string>()->default_value("elemnet86"),
        "element_fraction | elemnet86 | magpie (reads material.composition)")(
        "name", po::value<std::string>(), "publish as this model name")(
        "layers", po::value<std::string>()->default_value("1024x4,512x3,256x3,128x3,64x2,32"),
        "hidden layers, WIDTHxREPEAT (ElemNet's by default)")(
        "dropout", po::value<double>()->default_value(defaults.dropout),
        "dropout after the last layer of each block of equal widths")(
        "learning-rate", po::value<double>()->default_value(defaults.learning_rate),
        "Adam's learning rate")("batch-size", po::value<int>()->default_value(defaults.batch_size),
                                "rows per step")(
        "epochs", po::value<int>()->default_value(defaults.max_epochs), "most epochs")(
        "patience", po::value<int>()->default_value(defaults.patience),
        "stop after this many epochs without a better validation MAE")(
        "seed", count_value(defaults.seed), "seed of the split, weights and dropout")(
        "validation", po::value<double>()->default_value(0.1),
        "fraction held out for early stopping")("test", po::value<double>()->default_value(0.1),
                                                "fraction held out for the reported MAE")(
        "threads", po::value<int>()->default_value(1),
        "LibTorch threads; 1 is bit-for-bit reproducible, and fastest on small nodes since "
        "OpenBLAS threads each matrix product itself (OPENBLAS_NUM_THREADS)")(
        "title", po::value<std::string>(), "title of the published model")(
        "author", po::value<std::vector<std::string>>(), "\"Family, Given\" (default: $USER)")(
        "doi", po::value<std::vector<std::string>>(), "DOI of a paper describing the model")(
        "domain", po::value<std::vector<std::string>>(), "science domain (default: materials)");
    add_models_option(o);
    po::positional_options_description pos;
    pos.add("data", 1);
    const CommandLine cl = parse_command_line("train", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("train", "DATA --target FIELD --featurizer F --name N [options]",
                   "Trains an ElemNet-style fully connected network (ReLU, dropout, Adam, MAE "
                   "loss, early stopping on a held-out split with a fixed seed) on the records "
                   "of DATA that have FIELD and a composition, and publishes it with its "
                   "train/validation/test MAE and the test MAE of two baselines (the mean, a "
                   "linear model).",
                   o);
        return 0;
    }
    for (const char* k : {"data", "target", "name"}) {
        if (cl.vm.count(k) == 0U)
            throw UsageError(std::string("kiln train: --") + k + " is required");
    }
    const std::string data = cl.vm["data"].as<std::string>();
    const std::string target = cl.vm["target"].as<std::string>();
    const std::string name = model::ModelId::parse(cl.vm["name"].as<std::string>()).name;
    const infer::Featurizer& f = infer::featurizer(cl.vm["featurizer"].as<std::string>());
    infer::TrainSpec spec;
    spec.hidden = parse_layers(cl.vm["layers"].as<std::string>());
    spec.dropout = cl.vm["dropout"].as<double>();
    spec.learning_rate = cl.vm["learning-rate"].as<double>();
    spec.batch_size = cl.vm["batch-size"].as<int>();
    spec.max_epochs = cl.vm["epochs"].as<int>();
    spec.patience = cl.vm["patience"].as<int>();
    spec.seed = count(cl.vm, "seed");
    spec.threads = cl.vm["threads"].as<int>();
    if (spec.threads < 1) throw ConfigError("--threads must be >= 1");
    if (spec.dropout < 0 || spec.dropout >= 1) throw ConfigError("--dropout must be in [0, 1)");
    if (!(spec.learning_rate > 0)) throw ConfigError("--learning-rate must be > 0");
    if (spec.batch_size < 1 || spec.max_epochs < 1 || spec.patience < 1)
        throw ConfigError("--batch-size, --epochs and --patience must be >= 1");

    const Examples ex = read_examples(data, target, f);
    log::info("train: " + std::to_string(ex.y.size()) + " of " + std::to_string(ex.records) +
              " records have " + target + " and a composition " + std::string(f.name()) +
              " covers (" + std::to_string(ex.no_target) + " without, " +
              std::to_string(ex.not_featurized) + " not featurized" +
              (ex.first_problem.empty() ? "" : ", e.g. " + ex.first_problem) + ")");
    if (ex.y.size() < 10)
        throw DataError("kiln train: only " + std::to_string(ex.y.size()) + " records of " + data +
                        " have a numeric " + target + " and a composition; need at least 10");

    const infer::Split split = infer::split_rows(ex.y.size(), cl.vm["validation"].as<double>(),
                                                 cl.vm["test"].as<double>(), spec.seed);
    const infer::TrainSet train = infer::select_rows(ex.x, ex.y, split.train);
    const infer::TrainSet validation = infer::select_rows(ex.x, ex.y, split.validation);
    const infer::TrainSet test = infer::select_rows(ex.x, ex.y, split.test);

    const double train_mean =
        std::accumulate(train.y.begin(), train.y.end(), 0.0) / static_cast<double>(train.y.size());
    const double mean_mae =
        infer::mean_absolute_error(std::vector<double>(test.y.size(), train_mean), test.y);
    const double linear_mae =
        infer::mean_absolute_error(infer::LinearModel::fit(train).predict(test.x), test.y);

    model::Registry registry = registry_from(cl.vm);
    const int version = registry.next_version(name);
    // The archive's top folder is named after the file's stem: always "model", so the same
    // seed gives the same bytes.
    const std::filesystem::path scratch_dir =
        std::filesystem::temp_directory_path() / ("kiln-train-" + std::to_string(::getpid()));
    std::filesystem::create_directories(scratch_dir);
    const std::filesystem::path scratch = scratch_dir / "model.pt";
    infer::Backend& backend = infer::load_backend("torch");
    log::info("train: " + std::to_string(train.y.size()) + " train, " +
              std::to_string(validation.y.size()) + " validation, " +
              std::to_string(test.y.size()) + " test rows; up to " +
              std::to_string(spec.max_epochs) + " epochs on " + std::to_string(spec.threads) +
              " threads");
    infer::TrainReport report;
    try {
        report = backend.train(spec, train, validation, test, scratch);
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        std::filesystem::remove_all(scratch_dir);
        throw Error("kiln train: LibTorch failed: " + first_line(e.what()));
    }
    const double per_epoch = report.epochs > 0 ? report.seconds / report.epochs : 0.0;

    model::ServableInfo info;
    info.name = name;
    info.version = version;
    info.featurizer = std::string(f.name());
    info.input = {{-1, static_cast<std::int64_t>(f.width())}, "float32"};
    info.output = {{-1, 1}, "float32"};
    info.title = get_or<std::string>(
        cl.vm, "title", "ElemNet-style network predicting " + target + " from " + info.featurizer);
    const char* user = std::getenv("USER");
    info.authors =
        get_or(cl.vm, "author",
               std::vector<std::string>{user != nullptr && *user != '\0' ? user : "kiln"});
    info.dois = get_or(cl.vm, "doi", std::vector<std::string>{});
    info.domains = get_or(cl.vm, "domain", std::vector<std::string>{"materials"});
    info.description = "Trained by kiln train on " + std::to_string(train.y.size()) +
                       " records of " + data + " to predict " + target + ".";
    info.libtorch_version = backend.version();
    info.sha256 = model::sha256_file(scratch.string());
    info.training = {{"dataset", std::filesystem::absolute(data).string()},
                     {"target", target},
                     {"featurizer", info.featurizer},
                     {"records",
                      {{"used", ex.y.size()},
                       {"without_target", ex.no_target},
                       {"not_featurized", ex.not_featurized}}},
                     {"split",
                      {{"train", train.y.size()},
                       {"validation", validation.y.size()},
                       {"test", test.y.size()},
                       {"seed", spec.seed}}},
                     {"mae",
                      {{"train", report.train_mae},
                       {"validation", report.validation_mae},
                       {"test", report.test_mae}}},
                     {"baselines_test_mae", {{"mean", mean_mae}, {"linear", linear_mae}}},
                     {"architecture",
                      {{"hidden", spec.hidden}, {"activation", "relu"}, {"dropout", spec.dropout}}},
                     {"optimizer",
                      {{"name", "Adam"},
                       {"learning_rate", spec.learning_rate},
                       {"batch_size", spec.batch_size},
                       {"loss", "MAE"}}},
                     {"epochs", report.epochs},
                     {"best_epoch", report.best_epoch},
                     {"seconds", report.seconds},
                     {"seconds_per_epoch", per_epoch},
                     {"threads", spec.threads}};
    try {
        (void)load_and_check(scratch.string(), "trained model", info.input, info.output, "cpu",
                             spec.threads);
        const model::ModelId id = registry.publish(scratch, model::make_servable(info));
        std::filesystem::remove_all(scratch_dir);
        std::cout << std::fixed << std::setprecision(4) << "trained " << id.to_string() << " on "
                  << train.y.size() << " rows (" << validation.y.size() << " validation, "
                  << test.y.size() << " test), " << report.epochs << " epochs (best "
                  << report.best_epoch << "), " << std::setprecision(2) << per_epoch << " s/epoch\n"
                  << std::setprecision(4) << "test MAE " << report.test_mae << "   mean baseline "
                  << mean_mae << "   linear baseline " << linear_mae << "   (" << target << ")\n";
    } catch (...) {
        std::filesystem::remove_all(scratch_dir);
        throw;
    }
    return 0;
}

}  // namespace kiln::cli
