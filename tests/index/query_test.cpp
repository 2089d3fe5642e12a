#include "kiln/index/query.hpp"

#include <gtest/gtest.h>

#include "kiln/core/error.hpp"

namespace kiln::index {
namespace {

std::string canon(std::string_view q) { return to_string(parse_query(q)); }

TEST(QueryParser, TermsAndQuotes) {
    EXPECT_EQ(canon("material.elements:Fe"), "material.elements:\"Fe\"");
    EXPECT_EQ(canon("kiln.path:\"a b\\\"c\""), "kiln.path:\"a b\\\"c\"");
    EXPECT_EQ(canon("dft.energy:-1.5e-3"), "dft.energy:\"-1.5e-3\"");
    EXPECT_EQ(canon("files.mime_type:text/plain"), "files.mime_type:\"text/plain\"");
    EXPECT_EQ(canon("kiln.path:a\\:b"), "kiln.path:\"a:b\"");
}

TEST(QueryParser, EmptyAndMatchAll) {
    EXPECT_EQ(parse_query("").kind, QueryNode::Kind::kAll);
    EXPECT_EQ(parse_query("   ").kind, QueryNode::Kind::kAll);
    EXPECT_EQ(canon("*"), "*");
    EXPECT_EQ(canon("*:*"), "*");
}

TEST(QueryParser, PrecedenceNotThenAndThenOr) {
    EXPECT_EQ(canon("a:1 OR b:2 AND c:3"), "(a:\"1\" OR (b:\"2\" AND c:\"3\"))");
    EXPECT_EQ(canon("a:1 AND b:2 OR c:3"), "((a:\"1\" AND b:\"2\") OR c:\"3\")");
    EXPECT_EQ(canon("NOT a:1 AND b:2"), "((NOT a:\"1\") AND b:\"2\")");
    EXPECT_EQ(canon("(a:1 OR b:2) AND NOT (c:3 OR d:4)"),
              "((a:\"1\" OR b:\"2\") AND (NOT (c:\"3\" OR d:\"4\")))");
    EXPECT_EQ(canon("a:1 || b:2 && !c:3"), "(a:\"1\" OR (b:\"2\" AND (NOT c:\"3\")))");
    EXPECT_EQ(canon("-a:1 b:2"), "((NOT a:\"1\") AND b:\"2\")");
}

TEST(QueryParser, ImplicitAnd) {
    EXPECT_EQ(canon("a:1 b:2 c:3"), "(a:\"1\" AND b:\"2\" AND c:\"3\")");
    EXPECT_EQ(canon("a:1 b:2 OR c:3"), "((a:\"1\" AND b:\"2\") OR c:\"3\")");
}

TEST(QueryParser, RangesPrefixesExists) {
    const auto r = parse_query("x:{1 TO *]");
    EXPECT_EQ(r.kind, QueryNode::Kind::kRange);
    EXPECT_FALSE(r.lo_inclusive);
    EXPECT_TRUE(r.hi_inclusive);
    EXPECT_EQ(r.lo, "1");
    EXPECT_EQ(r.hi, "*");
    EXPECT_EQ(canon("x:[-2.5 TO 3}"), "x:[-2.5 TO 3}");
    EXPECT_EQ(canon("kiln.path:examples/*"), "kiln.path:\"examples/\"*");
    EXPECT_EQ(parse_query("kiln.path:examples/*").kind, QueryNode::Kind::kPrefix);
    EXPECT_EQ(canon("_exists_:dft.energy"), "_exists_:dft.energy");
    EXPECT_EQ(canon("dft.energy:*"), "_exists_:dft.energy");
}

// The message names the column and what was expected; the exit code is 64.
void expect_error(std::string_view q, std::size_t column, const std::string& expected) {
    try {
        (void)parse_query(q);
        FAIL() << "no error for " << q;
    } catch (const UsageError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("column " + std::to_string(column) + ":"), std::string::npos) << m;
        EXPECT_NE(m.find(expected), std::string::npos) << m;
        EXPECT_EQ(e.code(), ExitCode::kUsage);
    }
}

TEST(QueryParser, ErrorsPointAtTheColumn) {
    expect_error("material.elements:Fe AND", 25, "a clause");
    expect_error("a:1 AND (b:2", 13, "')' to close the '(' at column 9");
    expect_error("a:1)", 4, "this ')' closes nothing");
    expect_error("Fe", 3, "':' after the field name 'Fe'");
    expect_error("a:[1 2]", 6, "'TO'");
    expect_error("a:[1 TO 2", 10, "']' or '}'");
    expect_error("a:\"open", 3, "closing '\"'");
    expect_error("a:f*o", 4, "'*' only at the end");
    expect_error("a: b", 3, "a value after 'a:'");
    expect_error("AND a:1", 1, "a clause before the operator");
    expect_error("a:1 AND ()", 10, "a clause inside the parentheses");
    expect_error("a:b?", 4, "'?'");
    // Nesting is bounded (the parser recurses): 64 levels parse, the 65th is an error at its
    // column, however deep the query goes (fuzz_query overflowed the stack with 900 '(').
    const auto nested = [](std::size_t n) {
        return std::string(n, '(') + "a:1" + std::string(n, ')');
    };
    EXPECT_NO_THROW(parse_query(nested(64)));
    EXPECT_NO_THROW(parse_query(std::string(64, '-') + "a:1"));
    expect_error(nested(65), 66, "at most 64 parentheses and NOTs may nest");
    expect_error(nested(100000), 66, "at most 64");
    expect_error(std::string(100000, '-') + "a:1", 66, "at most 64");
}

TEST(QueryParser, QuoteValueRoundTrips) {
    for (const std::string v : {"plain", "with space", "quo\"te", "back\\slash", "a:b", "x*"}) {
        const auto n = parse_query("f:" + quote_value(v));
        EXPECT_EQ(n.kind, QueryNode::Kind::kTerm);
        EXPECT_EQ(n.value, v);
    }
}

}  // namespace
}  // namespace kiln::index
