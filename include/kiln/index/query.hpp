// The query language: the Lucene / Elasticsearch query-string subset that MDF Forge users
// write.
//
//   field:value   field:"quoted value"   field:prefix*   field:*  (has the field)
//   field:[lo TO hi]  field:{lo TO hi}  field:[lo TO *]  (inclusive [ ], exclusive { })
//   _exists_:field   *  or  *:*  (every record)
//   a AND b   a OR b   NOT a   -a   (a OR b) AND NOT c   && || ! as synonyms
//
// Precedence: NOT binds tightest, then AND, then OR. Two clauses side by side are joined by
// AND (Forge joins its helpers with AND). A backslash escapes the next character in a value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::index {

struct QueryNode {
    enum class Kind { kAll, kTerm, kPrefix, kRange, kExists, kAnd, kOr, kNot };
    Kind kind = Kind::kAll;
    std::string field;
    std::string value;               // kTerm, kPrefix
    std::string lo = "*", hi = "*";  // kRange bounds as written; "*" is open
    bool lo_inclusive = true, hi_inclusive = true;
    bool quoted = false;              // kTerm: the value was quoted
    std::size_t column = 1;           // 1-based position of the clause, for error messages
    std::vector<QueryNode> children;  // kAnd, kOr (two or more), kNot (one)
};

/// Parses a query; an empty or all-blank query is kAll. Throws UsageError (exit 64) with the
/// column of the problem, what was expected, and the query with a caret under the spot.
[[nodiscard]] QueryNode parse_query(std::string_view text);

/// A canonical text of the tree, fully parenthesised (for tests and --explain).
[[nodiscard]] std::string to_string(const QueryNode& node);

/// `value` quoted for the query language (for building queries from helper flags).
[[nodiscard]] std::string quote_value(std::string_view value);

}  // namespace kiln::index
