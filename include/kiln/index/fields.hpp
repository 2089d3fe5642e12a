// How a record's JSON becomes searchable fields. A field is the dotted path of a leaf
// ("material.elements", "files.mime_type"); array elements share their array's path, so a
// field may hold several values in one record. Null values and empty containers are absent.
//
// Every field is recorded as present (`_exists_`, `kiln fields`); numbers go to a numeric
// column (ranges, stats, sort); strings and booleans become exact-match terms when the
// field is keyword-indexed by the policy.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::index {

enum class ValueKind { kString, kNumber, kBoolean };

/// One leaf of a record: its field path and value. `text` is the string, or "true"/"false";
/// `number` is set for numbers.
struct Leaf {
    std::string_view field;
    ValueKind kind = ValueKind::kString;
    std::string_view text;
    double number = 0;
};

/// Calls `visit` for every non-null leaf of `record` (depth first, in key order).
void flatten(const nlohmann::json& record, const std::function<void(const Leaf&)>& visit);
/// The same leaves straight from JSON text, without building the document (the index build
/// reads millions of records). Keys are visited in text order. Throws DataError when the text
/// is not JSON.
void flatten_text(std::string_view json_text, const std::function<void(const Leaf&)>& visit);

/// Which string/boolean fields get term postings. Patterns are exact field names or a prefix
/// ending in '*' ("dft.*").
struct IndexPolicy {
    std::vector<std::string> keyword_fields = default_keyword_fields();

    [[nodiscard]] bool is_keyword(std::string_view field) const;
    [[nodiscard]] nlohmann::json to_json() const;
    /// Throws DataError naming what is wrong.
    [[nodiscard]] static IndexPolicy from_json(const nlohmann::json& j);
    /// material.*, mdf.*, files.*, crystal_structure.*, molecule.*, dft.*, image.*,
    /// kiln.format, kiln.path, kiln.part_of.
    [[nodiscard]] static std::vector<std::string> default_keyword_fields();
};

/// Field type names used by the index and `kiln fields`.
enum class FieldType { kKeyword, kNumber, kBoolean, kMixed };
[[nodiscard]] const char* to_string(FieldType t);
[[nodiscard]] FieldType field_type_from_string(std::string_view s);  // throws DataError
/// The type of a field that has values of the kinds in `mask` (bit per ValueKind).
[[nodiscard]] FieldType field_type_of(unsigned mask);
[[nodiscard]] constexpr unsigned kind_bit(ValueKind k) { return 1U << static_cast<unsigned>(k); }
/// The type of a field across segments that gave it the types in `mask` (bit per FieldType).
[[nodiscard]] FieldType combined_type(unsigned mask);

}  // namespace kiln::index
