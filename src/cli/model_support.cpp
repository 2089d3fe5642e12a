#include "cli/model_support.hpp"

#include <cmath>

#include "kiln/core/error.hpp"
#include "kiln/extract/composition.hpp"
#include "kiln/index/fields.hpp"

namespace kiln::cli {

void add_models_option(po::options_description& o) {
    o.add_options()("models", po::value<std::string>(),
                    "model registry directory (default: $KILN_MODELS, else ./models)");
}

model::Registry registry_from(const po::variables_map& vm) {
    return model::Registry(model::Registry::default_root(get_or<std::string>(vm, "models", "")));
}

infer::CompositionRow composition_row(const std::string& formula) {
    const extract::Composition c = extract::parse_formula(formula);
    if (c.empty()) throw DataError("formula '" + formula + "' has no elements");
    infer::CompositionRow row;
    for (const auto& [z, amount] : c.amounts()) row.emplace_back(z, amount);
    return row;
}

RecordInput read_record_input(std::string_view metadata_json, std::string_view target_field) {
    RecordInput in;
    int targets = 0;
    try {
        index::flatten_text(metadata_json, [&](const index::Leaf& leaf) {
            if (leaf.field == "material.composition" && leaf.kind == index::ValueKind::kString) {
                in.composition = std::string(leaf.text);
            } else if (!target_field.empty() && leaf.field == target_field) {
                ++targets;
                if (leaf.kind == index::ValueKind::kNumber && std::isfinite(leaf.number))
                    in.target = leaf.number;
            }
        });
    } catch (const DataError&) {
        return {};
    }
    if (targets != 1) in.target.reset();
    return in;
}

std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

const infer::Featurizer& featurizer_for(const std::string& name, const model::TensorSpec& input,
                                        const std::string& what) {
    const infer::Featurizer* f = nullptr;
    try {
        f = &infer::featurizer(name);
    } catch (const UsageError& e) {
        throw ConfigError(what + ": " + e.what());
    }
    const auto width = static_cast<std::int64_t>(f->width());
    if (input.row_width() != width)
        throw ConfigError(what + ": featurizer " + name + " gives rows of " +
                          std::to_string(width) + " values, so the input shape must be -1," +
                          std::to_string(width) + ", not " + input.to_string());
    return *f;
}

const infer::Featurizer& featurizer_of(const model::Servable& s) {
    return featurizer_for(s.featurizer, s.input,
                          "model " + s.name + "@" + std::to_string(s.version));
}

std::unique_ptr<infer::Model> load_and_check(const std::string& file, const std::string& what,
                                             const model::TensorSpec& input,
                                             const model::TensorSpec& output,
                                             const std::string& device, int threads) {
    if (const std::string problem = model::signature_problem(input, output); !problem.empty())
        throw ConfigError(what + ": " + problem);
    infer::Backend& backend = infer::load_backend("torch");
    std::unique_ptr<infer::Model> m;
    try {
        m = backend.load(file, device, threads);
    } catch (const std::exception& e) {
        throw DataError(what + ": " + file +
                        " does not load as TorchScript: " + first_line(e.what()));
    }
    constexpr std::int64_t kDryRows = 2;
    const std::int64_t width = input.row_width();
    infer::Matrix dry{std::vector<float>(static_cast<std::size_t>(kDryRows * width), 0.0F),
                      kDryRows, width};
    infer::Matrix out;
    try {
        out = m->run(dry);
    } catch (const std::exception& e) {
        throw DataError(what + ": a dry batch of shape (" + std::to_string(kDryRows) + ", " +
                        std::to_string(width) + ") failed: " + first_line(e.what()));
    }
    if (out.cols != output.row_width())
        throw DataError(what + ": a dry batch of " + std::to_string(kDryRows) +
                        " rows gave output (" + std::to_string(out.rows) + ", " +
                        std::to_string(out.cols) + ") but the declared output is " +
                        output.to_string());
    return m;
}

}  // namespace kiln::cli
