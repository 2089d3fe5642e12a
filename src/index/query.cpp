#include "kiln/index/query.hpp"

#include <cctype>

#include "kiln/core/error.hpp"

namespace kiln::index {
namespace {

bool is_special(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '(' || c == ')' || c == '[' ||
           c == ']' || c == '{' || c == '}' || c == ':' || c == '"';
}

class Parser {
public:
    static constexpr int kMaxDepth = 64;

    explicit Parser(std::string_view text) : text_(text) {}

    QueryNode parse() {
        skip_space();
        if (at_end()) return QueryNode{};
        QueryNode n = parse_or();
        skip_space();
        if (!at_end()) {
            fail(peek() == ')' ? "an operator or the end of the query (this ')' closes nothing)"
                               : "an operator or the end of the query");
        }
        return n;
    }

private:
    [[noreturn]] void fail(const std::string& expected) const {
        const std::string got =
            at_end() ? "the end of the query"
                     : "'" +
                           std::string(
                               text_.substr(pos_, std::min<std::size_t>(12, text_.size() - pos_))) +
                           "'";
        throw UsageError("bad query at column " + std::to_string(pos_ + 1) + ": expected " +
                         expected + ", got " + got + "\n  " + std::string(text_) + "\n  " +
                         std::string(pos_, ' ') + "^");
    }

    [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
    [[nodiscard]] char peek() const { return text_[pos_]; }
    void skip_space() {
        while (!at_end() && std::isspace(static_cast<unsigned char>(peek())) != 0) ++pos_;
    }

    // Whether the operator `op` starts here as a word of its own.
    [[nodiscard]] bool at_word(std::string_view op) const {
        if (text_.substr(pos_, op.size()) != op) return false;
        const std::size_t end = pos_ + op.size();
        return end >= text_.size() || is_special(text_[end]);
    }

    bool take_operator(std::string_view word, std::string_view symbol) {
        skip_space();
        if (at_word(word)) {
            pos_ += word.size();
            return true;
        }
        if (!symbol.empty() && text_.substr(pos_, symbol.size()) == symbol) {
            pos_ += symbol.size();
            return true;
        }
        return false;
    }

    QueryNode parse_or() {
        QueryNode first = parse_and();
        if (!take_operator("OR", "||")) return first;
        QueryNode n;
        n.kind = QueryNode::Kind::kOr;
        n.column = first.column;
        n.children.push_back(std::move(first));
        do {
            n.children.push_back(parse_and());
        } while (take_operator("OR", "||"));
        return n;
    }

    [[nodiscard]] bool at_clause_start() {
        skip_space();
        if (at_end() || peek() == ')') return false;
        return !at_word("OR") && text_.substr(pos_, 2) != "||";
    }

    QueryNode parse_and() {
        QueryNode first = parse_not();
        QueryNode n;
        n.kind = QueryNode::Kind::kAnd;
        n.column = first.column;
        n.children.push_back(std::move(first));
        for (;;) {
            if (take_operator("AND", "&&")) {
                n.children.push_back(parse_not());
            } else if (at_clause_start()) {
                n.children.push_back(parse_not());  // implicit AND
            } else {
                break;
            }
        }
        if (n.children.size() == 1) return std::move(n.children.front());
        return n;
    }

    QueryNode parse_not() {
        skip_space();
        const std::size_t column = pos_ + 1;
        // Every nesting, '(' or NOT, comes through here: bound it, as the parser recurses.
        struct Depth {
            int& d;
            explicit Depth(int& depth) : d(++depth) {}
            ~Depth() { --d; }
            Depth(const Depth&) = delete;
            Depth& operator=(const Depth&) = delete;
        } depth(depth_);
        if (depth_ > kMaxDepth + 1) {  // the first call is the top level, not a nesting
            fail("a clause: at most " + std::to_string(kMaxDepth) +
                 " parentheses and NOTs may nest");
        }
        if (at_word("NOT") || (!at_end() && (peek() == '!' || peek() == '-'))) {
            pos_ += at_word("NOT") ? std::size_t{3} : std::size_t{1};
            QueryNode n;
            n.kind = QueryNode::Kind::kNot;
            n.column = column;
            n.children.push_back(parse_not());
            return n;
        }
        return parse_primary();
    }

    QueryNode parse_primary() {
        skip_space();
        if (at_end()) fail("a clause such as field:value");
        const std::size_t column = pos_ + 1;
        if (peek() == '(') {
            ++pos_;
            skip_space();
            if (!at_end() && peek() == ')') fail("a clause inside the parentheses");
            QueryNode n = parse_or();
            skip_space();
            if (at_end() || peek() != ')')
                fail("')' to close the '(' at column " + std::to_string(column));
            ++pos_;
            return n;
        }
        if (at_word("AND") || at_word("OR") || text_.substr(pos_, 2) == "&&" ||
            text_.substr(pos_, 2) == "||") {
            fail("a clause before the operator");
        }
        if (peek() == '*') {
            ++pos_;
            if (!at_end() && peek() == ':') {
                ++pos_;
                if (at_end() || peek() != '*') fail("'*' after '*:'");
                ++pos_;
            }
            QueryNode n;
            n.column = column;
            return n;
        }
        std::string field = read_field();
        if (field.empty()) fail("a field name");
        if (at_end() || peek() != ':') {
            fail("':' after the field name '" + field +
                 "' (kiln has no default field: write field:value)");
        }
        ++pos_;
        QueryNode n;
        n.column = column;
        n.field = field;
        if (field == "_exists_") {
            n.kind = QueryNode::Kind::kExists;
            n.field = read_field();
            if (n.field.empty()) fail("a field name after '_exists_:'");
            return n;
        }
        if (at_end() || std::isspace(static_cast<unsigned char>(peek())) != 0) {
            fail("a value after '" + field + ":'");
        }
        if (peek() == '[' || peek() == '{') return parse_range(std::move(n));
        if (peek() == '"') {
            n.kind = QueryNode::Kind::kTerm;
            n.quoted = true;
            n.value = read_quoted();
            return n;
        }
        bool star = false;
        n.value = read_word(star);
        if (n.value.empty() && !star) fail("a value after '" + field + ":'");
        if (star) {
            n.kind = n.value.empty() ? QueryNode::Kind::kExists : QueryNode::Kind::kPrefix;
        } else {
            n.kind = QueryNode::Kind::kTerm;
        }
        return n;
    }

    QueryNode parse_range(QueryNode n) {
        n.kind = QueryNode::Kind::kRange;
        n.lo_inclusive = peek() == '[';
        ++pos_;
        skip_space();
        n.lo = read_bound();
        skip_space();
        if (!at_word("TO")) fail("'TO' between the range bounds");
        pos_ += 2;
        skip_space();
        n.hi = read_bound();
        skip_space();
        if (at_end() || (peek() != ']' && peek() != '}')) fail("']' or '}' to close the range");
        n.hi_inclusive = peek() == ']';
        ++pos_;
        return n;
    }

    std::string read_bound() {
        if (!at_end() && peek() == '"') return read_quoted();
        bool star = false;
        std::string b = read_word(star);
        if (star && b.empty()) return "*";
        if (star) fail("a number or '*' as a range bound (no wildcards inside a bound)");
        if (b.empty()) fail("a range bound (a number or '*')");
        return b;
    }

    // A field name: anything up to a space or special character, '\' escaping the next one
    // (record keys from JSON files may hold any character).
    std::string read_field() {
        std::string f;
        while (!at_end() && !is_special(peek())) {
            if (peek() == '*') fail("a field name without '*'");
            if (peek() == '\\') {
                ++pos_;
                if (at_end()) fail("a character after '\\'");
            }
            f += peek();
            ++pos_;
        }
        return f;
    }

    // A bare value up to a space or special character; a trailing unescaped '*' marks a
    // prefix (returned without it, star = true). A '*' anywhere else is an error.
    std::string read_word(bool& star) {
        std::string w;
        star = false;
        while (!at_end() && !is_special(peek())) {
            char c = peek();
            if (c == '\\') {
                ++pos_;
                if (at_end()) fail("a character after '\\'");
                w += peek();
                ++pos_;
                continue;
            }
            if (c == '*') {
                const std::size_t next = pos_ + 1;
                if (next < text_.size() && !is_special(text_[next])) {
                    fail("'*' only at the end of a value (prefix search)");
                }
                star = true;
                ++pos_;
                break;
            }
            if (c == '?')
                fail("a value without '?' (single-character wildcards are not supported)");
            w += c;
            ++pos_;
        }
        return w;
    }

    std::string read_quoted() {
        const std::size_t open = pos_;
        ++pos_;
        std::string v;
        while (!at_end() && peek() != '"') {
            if (peek() == '\\' && pos_ + 1 < text_.size()) ++pos_;
            v += peek();
            ++pos_;
        }
        if (at_end()) {
            pos_ = open;
            fail("a closing '\"' for this quote");
        }
        ++pos_;
        return v;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    int depth_ = 0;  // parse_not calls in progress
};

}  // namespace

QueryNode parse_query(std::string_view text) { return Parser(text).parse(); }

std::string to_string(const QueryNode& n) {
    using K = QueryNode::Kind;
    switch (n.kind) {
        case K::kAll:
            return "*";
        case K::kTerm:
            return n.field + ":" + quote_value(n.value);
        case K::kPrefix:
            return n.field + ":" + quote_value(n.value) + "*";
        case K::kExists:
            return "_exists_:" + n.field;
        case K::kRange:
            return n.field + ":" + (n.lo_inclusive ? "[" : "{") + n.lo + " TO " + n.hi +
                   (n.hi_inclusive ? "]" : "}");
        case K::kNot:
            return "(NOT " + to_string(n.children.front()) + ")";
        case K::kAnd:
        case K::kOr: {
            std::string s = "(";
            for (std::size_t i = 0; i < n.children.size(); ++i) {
                if (i > 0) s += n.kind == K::kAnd ? " AND " : " OR ";
                s += to_string(n.children[i]);
            }
            return s + ")";
        }
    }
    return "*";
}

std::string quote_value(std::string_view value) {
    std::string q = "\"";
    for (const char c : value) {
        if (c == '"' || c == '\\') q += '\\';
        q += c;
    }
    return q + "\"";
}

}  // namespace kiln::index
