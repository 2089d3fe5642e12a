#include <gtest/gtest.h>

#include "kiln/core/progress.hpp"

namespace kiln {
namespace {

TEST(Progress, RatesEtaAndInterval) {
    Progress p("ingest", "files", 100, 1000, 10.0);
    EXPECT_TRUE(p.due(0.0));
    p.set_done(25, 250);
    EXPECT_DOUBLE_EQ(p.items_per_s(5.0), 5.0);
    EXPECT_DOUBLE_EQ(p.bytes_per_s(5.0), 50.0);
    EXPECT_DOUBLE_EQ(p.eta_s(5.0), 15.0);  // 750 bytes left at 50 B/s
    const std::string line = p.line(5.0);
    EXPECT_NE(line.find("25/100 files (25.0%)"), std::string::npos) << line;
    EXPECT_NE(line.find("ETA 00:00:15"), std::string::npos) << line;
    EXPECT_EQ(line.find('\r'), std::string::npos);
    EXPECT_FALSE(p.due(14.9));
    EXPECT_TRUE(p.due(15.0));
}

TEST(Progress, UnknownEtaBeforeAnyWork) {
    Progress p("x", "units", 10, 0, 1.0);
    EXPECT_LT(p.eta_s(3.0), 0);
    EXPECT_NE(p.line(3.0).find("ETA --:--:--"), std::string::npos);
}

TEST(Progress, NoByteFiguresWhenNoBytesAreCounted) {
    Progress p("infer", "rows", 1000, 0, 1.0);
    p.set_done(400, 0);
    const std::string line = p.line(2.0);
    EXPECT_EQ(line, "infer: 400/1000 rows (40.0%), 200.0 rows/s, ETA 00:00:03") << line;
    Progress q("ingest", "files", 10, 100, 1.0);
    q.set_done(5, 50);
    EXPECT_NE(q.line(1.0).find("MB/s"), std::string::npos);
}

}  // namespace
}  // namespace kiln
