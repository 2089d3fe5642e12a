#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "kiln/core/error.hpp"
#include "kiln/infer/featurizer.hpp"

namespace kiln::infer {
namespace {

std::vector<float> features(std::string_view name, const CompositionRow& row) {
    const Featurizer& f = featurizer(name);
    std::vector<float> out(f.width());
    f.featurize(row, out);
    return out;
}

TEST(ElementFraction, FractionsAtAtomicNumberMinusOne) {
    const auto x = features("element_fraction", {{26, 2}, {8, 3}});  // Fe2O3
    ASSERT_EQ(x.size(), 118U);
    EXPECT_FLOAT_EQ(x[25], 0.4F);
    EXPECT_FLOAT_EQ(x[7], 0.6F);
    EXPECT_FLOAT_EQ(std::accumulate(x.begin(), x.end(), 0.0F), 1.0F);
}

TEST(ElemNet86, SkipsTheEightElementsAndStopsAtPlutonium) {
    const Featurizer& f = featurizer("elemnet86");
    const auto names = f.feature_names();
    ASSERT_EQ(names.size(), 86U);
    EXPECT_EQ(names[0], "frac_H");
    EXPECT_EQ(names[1], "frac_Li");  // He skipped
    EXPECT_EQ(names.back(), "frac_Pu");
    for (const char* gone :
         {"frac_He", "frac_Ne", "frac_Ar", "frac_Po", "frac_At", "frac_Rn", "frac_Fr", "frac_Ra"})
        EXPECT_EQ(std::find(names.begin(), names.end(), gone), names.end()) << gone;
    const auto x = features("elemnet86", {{3, 1}, {8, 1}});  // LiO
    EXPECT_FLOAT_EQ(x[1], 0.5F);
    std::vector<float> out(86);
    EXPECT_THROW(f.featurize({{2, 1}}, out), DataError);   // He
    EXPECT_THROW(f.featurize({{95, 1}}, out), DataError);  // Am
}

TEST(Magpie, StatisticsOfOneProperty) {
    const ElementTable& t = magpie_table();
    ASSERT_EQ(t.properties.size(), 22U);
    EXPECT_EQ(t.properties[0], "Number");
    EXPECT_EQ(t.symbols[25], "Fe");
    const auto x = features("magpie", {{26, 2}, {8, 3}});  // Fe2O3: Number 26 and 8
    ASSERT_EQ(x.size(), 132U);
    EXPECT_FLOAT_EQ(x[0], 8);                           // minimum
    EXPECT_FLOAT_EQ(x[1], 26);                          // maximum
    EXPECT_FLOAT_EQ(x[2], 18);                          // range
    EXPECT_FLOAT_EQ(x[3], 0.4F * 26 + 0.6F * 8);        // mean = 15.2
    EXPECT_FLOAT_EQ(x[4], 0.4F * 10.8F + 0.6F * 7.2F);  // avg_dev
    EXPECT_FLOAT_EQ(x[5], 8);                           // mode: O has the larger fraction
}

TEST(Magpie, ModeOnATieIsTheSmallestValue) {
    const auto x = features("magpie", {{11, 1}, {17, 1}});  // NaCl
    EXPECT_FLOAT_EQ(x[5], 11);
}

TEST(Featurizers, RejectBadRows) {
    std::vector<float> out(118);
    const Featurizer& f = featurizer("element_fraction");
    EXPECT_THROW(f.featurize({}, out), DataError);
    EXPECT_THROW(f.featurize({{26, -1}}, out), DataError);
    EXPECT_THROW(f.featurize({{26, std::nan("")}}, out), DataError);
    EXPECT_THROW(f.featurize({{0, 1}}, out), DataError);
    EXPECT_THROW((void)featurizer("nope"), UsageError);
}

}  // namespace
}  // namespace kiln::infer
