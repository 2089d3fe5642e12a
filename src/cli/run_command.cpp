// `kiln run NAME[@V] --formula Fe2O3 ...` or `--input FILE.jsonl`: one-shot inference with
// the input checked against the declared signature (DLHub's `run`).
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/model_support.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"

namespace kiln::cli {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Input {
    std::string label;     // the formula, or "row N"
    Json echo;             // what jsonl prints as "input"
    std::vector<float> x;  // featurized row
};

Input formula_input(const std::string& formula, const infer::Featurizer& f) {
    Input in;
    in.label = formula;
    in.echo = formula;
    in.x.resize(f.width());
    f.featurize(composition_row(formula), in.x);
    return in;
}

// One --input line: {"formula": "Fe2O3"} or {"input": [numbers]} (an already featurized row).
Input parse_line(const std::string& line, const std::string& where, const infer::Featurizer& f,
                 std::int64_t width) {
    Json j;
    try {
        j = Json::parse(python_literals_as_null(line));  // Python writes NaN: it becomes null
    } catch (const Json::exception& e) {
        throw DataError(where + ": not JSON (" + e.what() + ")");
    }
    if (!j.is_object())
        throw DataError(
            where + ": expected a JSON object like {\"formula\": \"Fe2O3\"} or {\"input\": [...]}");
    if (j.contains("formula") && j["formula"].is_string())
        return formula_input(j["formula"].get<std::string>(), f);
    Input in;
    if (!j.contains("input") || !j["input"].is_array())
        throw DataError(where +
                        ": needs \"formula\" (a string) or \"input\" (an array of numbers)");
    const Json& a = j["input"];
    if (static_cast<std::int64_t>(a.size()) != width)
        throw DataError(where + ": input has " + std::to_string(a.size()) +
                        " values, the model takes " + std::to_string(width));
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!a[i].is_number() || !std::isfinite(a[i].get<double>()))
            throw DataError(where + ": input value " + std::to_string(i) + " is " + a[i].dump() +
                            ", expected a finite number");
        in.x.push_back(a[i].get<float>());
    }
    in.label = where;
    in.echo = a;
    return in;
}

}  // namespace

int run_run(const Args& args) {
    const auto t0 = Clock::now();
    po::options_description o("Options");
    o.add_options()("model", po::value<std::string>(), "NAME or NAME@VERSION (positional)")(
        "formula", po::value<std::vector<std::string>>(), "a composition to predict (repeat)")(
        "input", po::value<std::string>(), "JSON lines: {\"formula\": ...} or {\"input\": [...]}")(
        "format", po::value<std::string>()->default_value("table"), "table | jsonl")(
        "device", po::value<std::string>()->default_value("auto"), "cpu | cuda | cuda:N | auto")(
        "threads", po::value<int>(), "LibTorch threads")("debug", po::bool_switch(),
                                                         "print timings of each step to stderr");
    add_models_option(o);
    po::positional_options_description pos;
    pos.add("model", 1);
    const CommandLine cl = parse_command_line("run", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("run",
                   "NAME[@VERSION] (--formula F ... | --input FILE.jsonl) [--format table|jsonl]",
                   "Runs a published model on a few inputs: formulas are featurized with the "
                   "model's featurizer; rows given as numbers are checked against the declared "
                   "input shape.",
                   o);
        return 0;
    }
    if (cl.vm.count("model") == 0U) throw UsageError("kiln run: NAME is required");
    const std::string format = cl.vm["format"].as<std::string>();
    if (format != "table" && format != "jsonl")
        throw UsageError("--format must be table or jsonl, not '" + format + "'");
    if (cl.vm.count("formula") == 0U && cl.vm.count("input") == 0U)
        throw UsageError("kiln run: give --formula (repeatable) or --input FILE.jsonl");
    const bool debug = cl.vm["debug"].as<bool>();
    std::vector<std::pair<std::string, double>> timings;
    auto mark = [&, last = t0](const std::string& step) mutable {
        const auto now = Clock::now();
        timings.emplace_back(step, std::chrono::duration<double, std::milli>(now - last).count());
        last = now;
    };

    const model::Registry registry = registry_from(cl.vm);
    const model::Servable s =
        registry.servable(model::ModelId::parse(cl.vm["model"].as<std::string>()));
    const std::string what = "model " + s.name + "@" + std::to_string(s.version);
    const infer::Featurizer& f = featurizer_of(s);
    const std::int64_t width = s.input.row_width();
    mark("read servable.json");

    std::vector<Input> inputs;
    for (const auto& formula : get_or(cl.vm, "formula", std::vector<std::string>{})) {
        try {
            inputs.push_back(formula_input(formula, f));
        } catch (const DataError& e) {
            throw DataError(what + ": --formula " + formula + ": " + e.what());
        }
    }
    if (cl.vm.count("input") != 0U) {
        const std::string path = cl.vm["input"].as<std::string>();
        std::ifstream file(path);
        if (!file) throw NoInputError("--input " + path + " cannot be opened");
        std::string line;
        for (std::size_t n = 1; std::getline(file, line); ++n) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            try {
                inputs.push_back(parse_line(line, path + ":" + std::to_string(n), f, width));
            } catch (const DataError& e) {
                throw DataError(what + ": " + e.what());
            }
        }
    }
    if (inputs.empty()) throw DataError(what + ": no inputs");
    infer::Matrix x{{}, static_cast<std::int64_t>(inputs.size()), width};
    for (const auto& in : inputs) x.values.insert(x.values.end(), in.x.begin(), in.x.end());
    mark("featurize");

    (void)infer::load_backend("torch");
    mark("load backend");
    const std::string file = registry.checked_model_file(s).string();
    mark("check sha256");
    const int threads = get_or<int>(cl.vm, "threads", 1);
    const std::string device =
        infer::choose_device(cl.vm["device"].as<std::string>(),
                             infer::load_backend("torch").cuda_devices(), infer::node_local_rank());
    std::unique_ptr<infer::Model> m =
        load_and_check(file, what, s.input, s.output, device, threads);
    mark("load model + dry batch");
    infer::Matrix y;
    try {
        y = m->run(x);
    } catch (const std::exception& e) {
        throw DataError(what + ": " + first_line(e.what()));
    }
    mark("run");

    for (std::size_t r = 0; r < inputs.size(); ++r) {
        const float* row = y.values.data() + r * static_cast<std::size_t>(y.cols);
        if (format == "jsonl") {
            Json out = Json::array();
            for (std::int64_t c = 0; c < y.cols; ++c) out.push_back(row[c]);
            std::cout
                << Json{{"input", inputs[r].echo}, {"output", y.cols == 1 ? out[0] : out}}.dump()
                << "\n";
        } else {
            if (r == 0)
                std::cout << std::left << std::setw(24) << "INPUT"
                          << "OUTPUT\n";
            std::cout << std::left << std::setw(24) << inputs[r].label;
            for (std::int64_t c = 0; c < y.cols; ++c)
                std::cout << (c ? " " : "") << std::setprecision(6) << row[c];
            std::cout << "\n";
        }
    }
    std::cout.flush();
    mark("print");
    if (debug) {
        double total = 0;
        for (const auto& [step, ms] : timings) {
            std::cerr << "kiln run: " << std::left << std::setw(26) << step << std::right
                      << std::fixed << std::setprecision(1) << std::setw(9) << ms << " ms\n";
            total += ms;
        }
        std::cerr << "kiln run: " << std::left << std::setw(26) << "total" << std::right
                  << std::setw(9) << total << " ms\n";
    }
    return 0;
}

int run_featurize(const Args& args) {
    po::options_description o("Options");
    o.add_options()("featurizer", po::value<std::string>(),
                    "element_fraction | elemnet86 | magpie")(
        "formula", po::value<std::vector<std::string>>(), "a composition (positional, repeat)")(
        "names", po::bool_switch(), "print the feature names, one per line, instead");
    po::positional_options_description pos;
    pos.add("formula", -1);
    const CommandLine cl = parse_command_line("featurize", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help(
            "featurize", "--featurizer F FORMULA... | --featurizer F --names",
            "Prints the feature row of each formula as JSON lines {\"formula\", \"features\"}: "
            "what a model with that featurizer receives.",
            o);
        return 0;
    }
    if (cl.vm.count("featurizer") == 0U)
        throw UsageError("kiln featurize: --featurizer is required");
    const infer::Featurizer& f = infer::featurizer(cl.vm["featurizer"].as<std::string>());
    if (cl.vm["names"].as<bool>()) {
        for (const auto& n : f.feature_names()) std::cout << n << "\n";
        return 0;
    }
    std::vector<float> row(f.width());
    for (const auto& formula : get_or(cl.vm, "formula", std::vector<std::string>{})) {
        f.featurize(composition_row(formula), row);
        std::cout << Json{{"formula", formula}, {"features", row}}.dump() << "\n";
    }
    return 0;
}

}  // namespace kiln::cli
