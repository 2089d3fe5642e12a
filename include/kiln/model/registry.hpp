// The model registry: a directory MODELS/NAME/VERSION/{model.pt, servable.json}
// (ARCHITECTURE.md). Versions are integers from 1; "NAME" alone means the newest. Publishing
// writes a staging directory beside the registry and renames it into place, so a model is
// either completely there or not at all.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/model/servable.hpp"

namespace kiln::model {

/// NAME or NAME@VERSION; version 0 means "the newest".
struct ModelId {
    std::string name;
    int version = 0;

    /// Throws UsageError when `spec` is not NAME[@positive integer] or the name has
    /// characters other than letters, digits, '_', '.', '-' (or starts with '.' or '-').
    static ModelId parse(std::string_view spec);
    [[nodiscard]] std::string to_string() const;  // "name@3"
    auto operator<=>(const ModelId&) const = default;
};

class Registry {
public:
    explicit Registry(std::filesystem::path root);
    /// `option` when not empty, else $KILN_MODELS, else ./models.
    [[nodiscard]] static std::filesystem::path default_root(const std::string& option);

    [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }
    /// Every published model version, sorted by name then version.
    [[nodiscard]] std::vector<ModelId> list() const;
    /// The existing version `id` names (the newest for version 0). Throws NoInputError naming
    /// the registry and the models or versions it has.
    [[nodiscard]] ModelId resolve(const ModelId& id) const;
    [[nodiscard]] std::filesystem::path dir(const ModelId& id) const;
    /// Reads and validates servable.json of `id` (resolved). DataError naming the file.
    [[nodiscard]] Servable servable(const ModelId& id) const;
    /// The path of model.pt after checking its sha256 against servable.json; DataError
    /// ("tampered or corrupted") on a mismatch.
    [[nodiscard]] std::filesystem::path checked_model_file(const Servable& s) const;
    /// Copies `model_file` and writes `document` (validated; its dlhub.name/version say where)
    /// into the registry atomically. Throws UsageError when that version exists.
    ModelId publish(const std::filesystem::path& model_file, const nlohmann::json& document);
    /// Removes NAME@VERSION (renamed away first, then deleted). NoInputError when absent.
    void remove(const ModelId& id);
    /// The next free version of `name` (1 for a new name).
    [[nodiscard]] int next_version(const std::string& name) const;

private:
    std::filesystem::path root_;
};

}  // namespace kiln::model
