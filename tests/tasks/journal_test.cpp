#include <gtest/gtest.h>

#include <fstream>

#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/tasks/journal.hpp"
#include "test_util.hpp"

namespace kiln::tasks {
namespace {

TEST(Journal, RecordsAndReloadsCommittedUnits) {
    test::TempDir dir;
    {
        Journal j(dir / "j.jsonl", "ingest", "plan-a");
        EXPECT_TRUE(j.committed().empty());
        j.append(3, {{"records", 5}});
        j.append(1, {{"records", 2}});
    }
    Journal again(dir / "j.jsonl", "ingest", "plan-a");
    ASSERT_EQ(again.committed().size(), 2U);
    EXPECT_EQ(again.committed().at(3)["records"], 5);
}

TEST(Journal, RefusesAnotherPlanOrJob) {
    test::TempDir dir;
    { Journal j(dir / "j.jsonl", "ingest", "plan-a"); }
    EXPECT_THROW(Journal(dir / "j.jsonl", "ingest", "plan-b"), ConfigError);
    EXPECT_THROW(Journal(dir / "j.jsonl", "infer", "plan-a"), ConfigError);
}

TEST(Journal, IgnoresTornLastLineAndKeepsAppending) {
    test::TempDir dir;
    {
        Journal j(dir / "j.jsonl", "ingest", "p");
        j.append(0, {{"ok", true}});
    }
    {
        std::ofstream out(dir / "j.jsonl", std::ios::app);
        out << "{\"unit\":1,\"resu";  // a crash in the middle of an append
    }
    {
        Journal j(dir / "j.jsonl", "ingest", "p");
        EXPECT_EQ(j.committed().size(), 1U);
        j.append(2, {{"ok", true}});
    }
    Journal j(dir / "j.jsonl", "ingest", "p");
    EXPECT_EQ(j.committed().size(), 2U);
    EXPECT_EQ(j.committed().count(1), 0U);
    EXPECT_EQ(j.committed().count(2), 1U);
}

TEST(Journal, CorruptMiddleLineIsAnError) {
    test::TempDir dir;
    test::write_text(dir / "j.jsonl",
                     "{\"journal\":\"kiln\",\"version\":1,\"job\":\"ingest\",\"plan\":\"p\"}\n"
                     "garbage\n{\"unit\":1,\"result\":{}}\n");
    EXPECT_THROW(Journal(dir / "j.jsonl", "ingest", "p"), DataError);
}

}  // namespace
}  // namespace kiln::tasks
