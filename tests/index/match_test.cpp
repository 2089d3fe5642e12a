#include <gtest/gtest.h>

#include "kiln/index/match.hpp"

namespace kiln::index {
namespace {

const nlohmann::json kDoc = {
    {"datacite",
     {{"creators", {{{"creatorName", "Jha, Dipendra"}}, {{"creatorName", "Ward, Logan"}}}}}},
    {"dlhub",
     {{"name", "elemnet"},
      {"version", 2},
      {"domains", {"materials", "chemistry"}},
      {"publication_date", "2026-11-28T01:00:00Z"}}}};

bool q(const char* text) { return matches(parse_query(text), kDoc); }

TEST(Match, FieldsMatchUnderAndBySuffix) {
    EXPECT_TRUE(q("domains:materials"));
    EXPECT_TRUE(q("dlhub.domains:chemistry"));
    EXPECT_FALSE(q("domains:physics"));
    EXPECT_TRUE(q("datacite.creators:Jha*"));
    EXPECT_TRUE(q("domains:materials AND datacite.creators:Jha*"));
    EXPECT_FALSE(q("domains:materials AND NOT datacite.creators:Ward*"));
    EXPECT_TRUE(q("name:elemnet OR name:other"));
}

TEST(Match, NumbersRangesExistsAndDates) {
    EXPECT_TRUE(q("version:2"));
    EXPECT_TRUE(q("version:[2 TO *]"));
    EXPECT_FALSE(q("version:{2 TO 5]"));
    EXPECT_TRUE(q("_exists_:publication_date"));
    EXPECT_FALSE(q("_exists_:training"));
    EXPECT_TRUE(q("publication_date:[2026-01-01 TO 2027-01-01]"));
    EXPECT_TRUE(q("*"));
}

}  // namespace
}  // namespace kiln::index
