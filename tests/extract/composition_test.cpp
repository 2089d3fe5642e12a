#include <gtest/gtest.h>

#include "kiln/core/error.hpp"
#include "kiln/extract/composition.hpp"
#include "kiln/extract/element.hpp"

namespace kiln::extract {
namespace {

double amount(const Composition& c, const char* symbol) {
    const auto it = c.amounts().find(atomic_number(symbol));
    return it == c.amounts().end() ? 0.0 : it->second;
}

TEST(Element, SymbolsAndNumbers) {
    EXPECT_EQ(atomic_number("Fe"), 26);
    EXPECT_EQ(atomic_number("Og"), 118);
    EXPECT_EQ(atomic_number("D"), 1);
    EXPECT_EQ(atomic_number("FE"), 0);
    EXPECT_EQ(atomic_number("Xx"), 0);
    EXPECT_EQ(element_symbol(8), "O");
    EXPECT_EQ(element_symbol(119), "");
}

TEST(Formula, SimpleNestedHydratesCharges) {
    const auto c = parse_formula("Ca3(PO4)2");
    EXPECT_DOUBLE_EQ(amount(c, "Ca"), 3);
    EXPECT_DOUBLE_EQ(amount(c, "P"), 2);
    EXPECT_DOUBLE_EQ(amount(c, "O"), 8);
    const auto k = parse_formula("K4[Fe(CN)6]");
    EXPECT_DOUBLE_EQ(amount(k, "C"), 6);
    EXPECT_DOUBLE_EQ(amount(k, "N"), 6);
    const auto h = parse_formula(
        "CuSO4\xC2\xB7"
        "5H2O");
    EXPECT_DOUBLE_EQ(amount(h, "H"), 10);
    EXPECT_DOUBLE_EQ(amount(h, "O"), 9);
    EXPECT_DOUBLE_EQ(amount(parse_formula("CaSO4*2H2O"), "H"), 4);
    EXPECT_DOUBLE_EQ(amount(parse_formula("Li0.5CoO2"), "Li"), 0.5);
    EXPECT_DOUBLE_EQ(amount(parse_formula("Fe+3"), "Fe"), 1);
    EXPECT_DOUBLE_EQ(amount(parse_formula("SO4^2-"), "O"), 4);
    EXPECT_DOUBLE_EQ(amount(parse_formula("CO"), "C"), 1);  // carbon monoxide, not cobalt
    EXPECT_DOUBLE_EQ(amount(parse_formula("Co"), "Co"), 1);
}

TEST(Formula, HugeAmountsAreDataErrors) {
    // Fuzz-found: a 500-digit hydrate multiplier made std::stod throw std::out_of_range.
    EXPECT_THROW((void)parse_formula("H2O." + std::string(500, '7') + "H2O"), DataError);
    EXPECT_THROW((void)parse_formula("Fe" + std::string(400, '9')), DataError);
}

TEST(Formula, ErrorsNamePositionAndProblem) {
    for (const char* bad : {"", "Xq2O3", "Fe2(O3", "fe2o3", "Fe2O3)", "123"}) {
        try {
            (void)parse_formula(bad);
            FAIL() << bad;
        } catch (const DataError& e) {
            EXPECT_NE(std::string(e.what()).find("formula '"), std::string::npos) << e.what();
        }
    }
    try {
        (void)parse_formula("Fe2Qz3");
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("unknown element 'Qz' at position 4"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW((void)parse_formula(std::string(5000, 'H')), DataError);
    EXPECT_THROW((void)parse_formula(std::string(100, '(') + "H" + std::string(100, ')')),
                 DataError);
}

TEST(Composition, ReducedHillAnonymous) {
    const auto c = parse_formula("Fe4O6");
    EXPECT_EQ(c.formula(), "Fe4O6");
    EXPECT_EQ(c.reduced().formula(), "Fe2O3");
    EXPECT_EQ(c.anonymous_formula(), "A2B3");
    EXPECT_EQ(parse_formula("H4C").formula(), "CH4");  // Hill: C, then H
    EXPECT_EQ(parse_formula("LiFePO4").anonymous_formula(), "ABCD4");
    EXPECT_EQ(parse_formula("Li0.5CoO2").reduced().formula(), "CoLi0.5O2");
    EXPECT_EQ(c.elements(), (std::vector<std::string>{"Fe", "O"}));
    EXPECT_DOUBLE_EQ(c.num_atoms(), 10);
    EXPECT_DOUBLE_EQ(c.fractions().at(26), 0.4);
}

}  // namespace
}  // namespace kiln::extract
