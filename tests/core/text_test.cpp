#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kiln/core/text.hpp"

namespace kiln {
namespace {

TEST(Text, PythonJsonLiteralsBecomeNull) {
    EXPECT_EQ(python_literals_as_null(R"([NaN, -Infinity, Infinity, "NaN", "a\"NaN"])"),
              R"([null, null, null, "NaN", "a\"NaN"])");
}

TEST(Text, Utf8Validation) {
    EXPECT_TRUE(is_valid_utf8("plain ascii"));
    EXPECT_TRUE(is_valid_utf8("Fe\xE2\x82\x82O\xE2\x82\x83"));  // Fe₂O₃
    EXPECT_FALSE(is_valid_utf8("bad\xff"));
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));      // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // surrogate
    EXPECT_FALSE(is_valid_utf8("\xE2\x82"));      // truncated
}

TEST(Text, EscapesOnlyInvalidBytes) {
    EXPECT_EQ(escape_invalid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
    EXPECT_EQ(escape_invalid_utf8("a\xff"
                                  "b"),
              "a\\xFFb");
    EXPECT_TRUE(is_valid_utf8(escape_invalid_utf8("\x80\x81\xfe")));
}

TEST(Text, JsonStringMatchesNlohmann) {
    for (const std::string& s : {std::string("plain"), std::string("quote\" back\\ nl\n tab\t"),
                                 std::string("ctl\x01\x1f"), std::string("caf\xC3\xA9")}) {
        std::string out;
        append_json_string(out, s);
        EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), s);
    }
}

TEST(Text, CaseHelpers) {
    EXPECT_EQ(to_lower_ascii("POSCAR.Gz"), "poscar.gz");
    EXPECT_TRUE(ends_with_nocase("data.TAR.GZ", ".tar.gz"));
    EXPECT_FALSE(ends_with_nocase("gz", ".tar.gz"));
    EXPECT_TRUE(ends_with_nocase("s.cif", ".CIF"));
    EXPECT_FALSE(ends_with_nocase("s.cf", ".cif"));
    EXPECT_FALSE(ends_with_nocase("s.cig", ".cif"));
    EXPECT_TRUE(ends_with_nocase("anything", ""));
}

}  // namespace
}  // namespace kiln
