// servable.json: a published model's metadata with DLHub's three blocks (datacite, dlhub,
// servable) and kiln's own (sha256 of model.pt, created, kiln version, training metrics).
// The document is validated against schemas/servable.schema.json (compiled in).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::model {

/// An ndarray argument: shape with -1 for the batch axis (null in the JSON), dtype.
struct TensorSpec {
    std::vector<std::int64_t> shape;
    std::string dtype = "float32";

    /// "-1,86" (the --input-shape syntax). Throws UsageError naming `option`.
    static TensorSpec parse(const std::string& text, const std::string& option);
    /// "[null, 86] float32".
    [[nodiscard]] std::string to_string() const;
    /// Values per batch row: the product of the sizes after the batch axis (1 for [null]).
    [[nodiscard]] std::int64_t row_width() const;
};

/// kiln's rule for a model's signature: the input is (batch, features), the output (batch) or
/// (batch, k). What is wrong, in words, or "" when nothing is.
[[nodiscard]] std::string signature_problem(const TensorSpec& input, const TensorSpec& output);

/// What `kiln model publish` knows about a model before it is written.
struct ServableInfo {
    std::string name;
    int version = 0;
    std::string featurizer;
    TensorSpec input, output;
    std::string title;
    std::vector<std::string> authors;  // "Family, Given"
    std::string description;
    std::vector<std::string> dois;  // papers describing the model (IsDescribedBy)
    std::vector<std::string> domains;
    std::vector<std::string> visible_to = {"public"};
    std::string publisher = "kiln";
    std::string libtorch_version;
    std::string sha256;
    nlohmann::json training;  // kiln train's metrics, or null
};

/// The servable.json document for `info`, created now.
[[nodiscard]] nlohmann::json make_servable(const ServableInfo& info);

/// The fields kiln uses, read from a validated document.
struct Servable {
    std::string name;
    int version = 0;
    std::string featurizer;
    TensorSpec input, output;
    std::string sha256;
    nlohmann::json document;

    /// Validates `doc` against the schema and kiln's own rules (the batch axis is the first
    /// and only null; shapes agree with their rank). Throws DataError naming `where` and
    /// every problem.
    static Servable from_json(const nlohmann::json& doc, const std::string& where);
};

/// The compiled-in schemas/servable.schema.json.
[[nodiscard]] const nlohmann::json& servable_schema();

/// Hex sha256 of a file's content (OpenSSL). Throws IoError naming the file.
[[nodiscard]] std::string sha256_file(const std::string& path);

}  // namespace kiln::model
