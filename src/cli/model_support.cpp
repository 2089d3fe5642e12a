#include "cli/model_support.hpp"

#include "kiln/core/error.hpp"
#include "kiln/extract/composition.hpp"

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

std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

const infer::Featurizer& featurizer_of(const model::Servable& s) {
    const infer::Featurizer* f = nullptr;
    try {
        f = &infer::featurizer(s.featurizer);
    } catch (const UsageError& e) {
        throw ConfigError("model " + s.name + "@" + std::to_string(s.version) + ": " + e.what());
    }
    if (s.input.shape.size() != 2 || s.input.shape[1] != static_cast<std::int64_t>(f->width()))
        throw ConfigError("model " + s.name + "@" + std::to_string(s.version) + ": featurizer " +
                          s.featurizer + " gives rows of " + std::to_string(f->width()) +
                          " values but the declared input is " + s.input.to_string());
    return *f;
}

std::unique_ptr<infer::Model> load_and_check(const std::string& file, const std::string& what,
                                             const model::TensorSpec& input,
                                             const model::TensorSpec& output,
                                             const std::string& device, int threads) {
    if (input.shape.size() != 2)
        throw ConfigError(what + ": the input shape must be (batch, features), have " +
                          input.to_string());
    if (output.shape.size() > 2)
        throw ConfigError(what + ": the output shape must be (batch) or (batch, k), have " +
                          output.to_string());
    infer::Backend& backend = infer::load_backend("torch");
    std::unique_ptr<infer::Model> m;
    try {
        m = backend.load(file, device, threads);
    } catch (const std::exception& e) {
        throw DataError(what + ": " + file +
                        " does not load as TorchScript: " + first_line(e.what()));
    }
    constexpr std::int64_t kDryRows = 2;
    infer::Matrix dry{std::vector<float>(static_cast<std::size_t>(kDryRows * input.shape[1]), 0.0F),
                      kDryRows, input.shape[1]};
    infer::Matrix out;
    try {
        out = m->run(dry);
    } catch (const std::exception& e) {
        throw DataError(what + ": a dry batch of shape (" + std::to_string(kDryRows) + ", " +
                        std::to_string(input.shape[1]) + ") failed: " + first_line(e.what()));
    }
    const std::int64_t want = output.shape.size() == 2 ? output.shape[1] : 1;
    if (out.cols != want)
        throw DataError(what + ": a dry batch of " + std::to_string(kDryRows) +
                        " rows gave output (" + std::to_string(out.rows) + ", " +
                        std::to_string(out.cols) + ") but the declared output is " +
                        output.to_string());
    return m;
}

}  // namespace kiln::cli
