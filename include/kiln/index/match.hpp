// A query evaluated against one JSON document in memory, for small collections that need no
// index (the model registry's servable.json files: `kiln model search`).
//
// A clause's field matches the document's leaves at that path and under it
// ("datacite.creators" matches datacite.creators.creatorName), and also a path that ends with
// it ("domains" matches dlhub.domains). Terms compare exactly (numbers by value), prefixes by
// the text's start, ranges numerically for numbers and by text for strings (ISO dates sort).
#pragma once

#include <nlohmann/json.hpp>

#include "kiln/index/query.hpp"

namespace kiln::index {

[[nodiscard]] bool matches(const QueryNode& query, const nlohmann::json& document);

}  // namespace kiln::index
