// Text helpers for names that come from file systems and archives (arbitrary bytes).
#pragma once

#include <string>
#include <string_view>

namespace kiln {

/// Whether `bytes` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
[[nodiscard]] bool is_valid_utf8(std::string_view bytes);
/// `bytes` with every byte that is not part of a valid UTF-8 sequence written as `\xNN`
/// (and a literal backslash kept as is). Equal to `bytes` when it is valid UTF-8.
[[nodiscard]] std::string escape_invalid_utf8(std::string_view bytes);
/// Appends `text` (valid UTF-8) to `out` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view text);
/// `text` without leading and trailing ASCII white space (space, \t, \r, \n, \v, \f).
[[nodiscard]] std::string_view trim(std::string_view text);
/// Lower-case ASCII copy.
[[nodiscard]] std::string to_lower_ascii(std::string_view text);
/// Whether `text` ends with `suffix`, ignoring ASCII case.
[[nodiscard]] bool ends_with_nocase(std::string_view text, std::string_view suffix);

/// JSON text with Python's json.dump extensions NaN, Infinity and -Infinity (outside strings)
/// replaced by null, so a strict JSON parser reads what Python wrote.
[[nodiscard]] std::string python_literals_as_null(std::string_view text);

}  // namespace kiln
