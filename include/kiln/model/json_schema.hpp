// A JSON Schema (draft-07) validator for the keywords kiln's own schemas use: type (one or a
// list), properties, required, additionalProperties, items (one schema), enum, const, minimum,
// maximum, minLength, minItems, pattern. Debian has no C++ validator; the tests check this
// one against Python's jsonschema on the same documents. A schema using another keyword
// (other than $schema, $id, $comment, title, description) is rejected, so nothing is
// silently ignored.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::model {

/// Every violation of `schema` by `doc`, each as "<JSON pointer>: <what is wrong>"; empty
/// when `doc` is valid. Throws kiln::Error when the schema itself uses an unknown keyword.
[[nodiscard]] std::vector<std::string> validate_json(const nlohmann::json& doc,
                                                     const nlohmann::json& schema);

}  // namespace kiln::model
