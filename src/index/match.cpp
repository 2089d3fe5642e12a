#include "kiln/index/match.hpp"

#include <charconv>
#include <functional>
#include <optional>

#include "kiln/index/fields.hpp"

namespace kiln::index {
namespace {

bool field_matches(std::string_view path, std::string_view field) {
    if (path == field) return true;
    if (path.size() > field.size() && path.starts_with(field) && path[field.size()] == '.')
        return true;
    if (path.size() > field.size() && path.ends_with(field) &&
        path[path.size() - field.size() - 1] == '.')
        return true;
    const std::string inner = "." + std::string(field) + ".";
    return path.find(inner) != std::string_view::npos;
}

std::optional<double> number_of(std::string_view s) {
    double d = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return d;
}

bool leaf_matches(const QueryNode& q, const Leaf& leaf) {
    using Kind = QueryNode::Kind;
    switch (q.kind) {
        case Kind::kExists:
            return true;
        case Kind::kTerm:
            if (leaf.kind == ValueKind::kNumber) {
                const auto v = number_of(q.value);
                return v && *v == leaf.number;
            }
            return leaf.text == q.value;
        case Kind::kPrefix:
            return leaf.kind != ValueKind::kNumber && leaf.text.starts_with(q.value);
        case Kind::kRange: {
            if (leaf.kind == ValueKind::kNumber) {
                const auto lo = number_of(q.lo);
                const auto hi = number_of(q.hi);
                if ((q.lo != "*" && !lo) || (q.hi != "*" && !hi)) return false;
                const bool above =
                    q.lo == "*" || (q.lo_inclusive ? leaf.number >= *lo : leaf.number > *lo);
                const bool below =
                    q.hi == "*" || (q.hi_inclusive ? leaf.number <= *hi : leaf.number < *hi);
                return above && below;
            }
            const std::string_view t = leaf.text;
            const bool above = q.lo == "*" || (q.lo_inclusive ? t >= q.lo : t > q.lo);
            const bool below = q.hi == "*" || (q.hi_inclusive ? t <= q.hi : t < q.hi);
            return above && below;
        }
        default:
            return false;
    }
}

}  // namespace

bool matches(const QueryNode& query, const nlohmann::json& document) {
    using Kind = QueryNode::Kind;
    switch (query.kind) {
        case Kind::kAll:
            return true;
        case Kind::kAnd:
            for (const auto& c : query.children) {
                if (!matches(c, document)) return false;
            }
            return true;
        case Kind::kOr:
            for (const auto& c : query.children) {
                if (matches(c, document)) return true;
            }
            return false;
        case Kind::kNot:
            return !matches(query.children.at(0), document);
        default: {
            bool found = false;
            flatten(document, [&](const Leaf& leaf) {
                if (!found && field_matches(leaf.field, query.field))
                    found = leaf_matches(query, leaf);
            });
            return found;
        }
    }
}

}  // namespace kiln::index
