// What the model commands (model, train, run) share: the --models option, formulas as
// composition rows, featurizing many rows into one matrix, and short messages from LibTorch.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command_line.hpp"
#include "kiln/infer/backend.hpp"
#include "kiln/infer/featurizer.hpp"
#include "kiln/model/registry.hpp"

namespace kiln::cli {

/// Adds --models DIR.
void add_models_option(po::options_description& o);
/// The registry named by --models, else $KILN_MODELS, else ./models.
[[nodiscard]] model::Registry registry_from(const po::variables_map& vm);

/// "Fe2O3" -> {(26, 2), (8, 3)}. DataError naming the formula and what is wrong.
[[nodiscard]] infer::CompositionRow composition_row(const std::string& formula);

/// What a model reads of a stored record: its material.composition and, when asked, one
/// numeric field (the training target; absent when missing, not finite or given twice).
struct RecordInput {
    std::optional<std::string> composition;
    std::optional<double> target;
};
/// Read from the record's JSON text with the index's simdjson reader (no document is built);
/// a record that is not JSON has neither.
[[nodiscard]] RecordInput read_record_input(std::string_view metadata_json,
                                            std::string_view target_field = {});

/// The first line of an exception message (LibTorch appends a C++ backtrace).
[[nodiscard]] std::string first_line(const std::string& message);

/// The featurizer `name`, checked to give rows of the width `input` declares; ConfigError
/// naming `what` (the model) otherwise.
[[nodiscard]] const infer::Featurizer& featurizer_for(const std::string& name,
                                                      const model::TensorSpec& input,
                                                      const std::string& what);
/// featurizer_for the servable's featurizer and input.
[[nodiscard]] const infer::Featurizer& featurizer_of(const model::Servable& s);

/// Loads `file` with the torch backend, runs a dry batch of `input` rows of zeros, and checks
/// the output has the declared width. DataError naming `what` on failure. Returns the model.
std::unique_ptr<infer::Model> load_and_check(const std::string& file, const std::string& what,
                                             const model::TensorSpec& input,
                                             const model::TensorSpec& output,
                                             const std::string& device, int threads);

}  // namespace kiln::cli
