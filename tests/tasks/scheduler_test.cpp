#include <gtest/gtest.h>

#include "kiln/core/error.hpp"
#include "kiln/tasks/scheduler.hpp"

namespace kiln::tasks {
namespace {

TEST(Scheduler, GrantsOnlyWithCreditsAndInOrder) {
    Scheduler s({10, 11, 12, 13, 14}, {1, 2}, 2);
    EXPECT_TRUE(s.take_grants().empty());
    s.add_credit(1, 2);
    s.add_credit(2, 2);
    const auto g = s.take_grants();
    ASSERT_EQ(g.size(), 4U);
    EXPECT_EQ(g[0].unit, 10U);
    EXPECT_EQ(g[3].unit, 13U);
    int on1 = 0;
    for (const auto& x : g) on1 += x.worker == 1 ? 1 : 0;
    EXPECT_EQ(on1, 2);  // two in flight per worker
    EXPECT_FALSE(s.finished());
}

TEST(Scheduler, FailedUnitIsRetriedOnAnotherWorker) {
    Scheduler s({7}, {1, 2}, 2);
    s.add_credit(1, 1);
    auto g = s.take_grants();
    ASSERT_EQ(g.size(), 1U);
    ASSERT_EQ(g[0].worker, 1);
    s.on_result(1, 7, false, "disk on fire");
    // Worker 1 has a credit again but failed the unit: it must wait for worker 2.
    EXPECT_TRUE(s.take_grants().empty());
    s.add_credit(2, 1);
    g = s.take_grants();
    ASSERT_EQ(g.size(), 1U);
    EXPECT_EQ(g[0].worker, 2);
    EXPECT_EQ(g[0].attempt, 2);
    s.on_result(2, 7, true);
    EXPECT_TRUE(s.finished());
    EXPECT_EQ(s.done_count(), 1U);
    EXPECT_EQ(s.retries(), 1U);
    EXPECT_TRUE(s.failed().empty());
}

TEST(Scheduler, GivesUpAfterMaxAttempts) {
    Scheduler s({3}, {1}, 2);  // one worker: the retry runs on it too
    s.add_credit(1, 2);
    for (int attempt = 1; attempt <= 2; ++attempt) {
        const auto g = s.take_grants();
        ASSERT_EQ(g.size(), 1U);
        EXPECT_EQ(g[0].attempt, attempt);
        s.on_result(1, 3, false, "bad " + std::to_string(attempt));
    }
    EXPECT_TRUE(s.take_grants().empty());
    EXPECT_TRUE(s.finished());
    ASSERT_EQ(s.failed().size(), 1U);
    EXPECT_EQ(s.failed().at(3), "bad 2");
}

TEST(Scheduler, StopDrainsInFlightAndGrantsNothing) {
    Scheduler s({1, 2, 3}, {1}, 2);
    s.add_credit(1, 1);
    ASSERT_EQ(s.take_grants().size(), 1U);
    s.stop();
    EXPECT_FALSE(s.finished());
    s.on_result(1, 1, true);
    EXPECT_TRUE(s.take_grants().empty());
    EXPECT_TRUE(s.finished());
    EXPECT_EQ(s.pending_count(), 2U);
}

TEST(Scheduler, RejectsResultsForUnitsNotHeld) {
    Scheduler s({1}, {1, 2}, 2);
    s.add_credit(1, 1);
    (void)s.take_grants();
    EXPECT_THROW(s.on_result(2, 1, true), Error);
}

}  // namespace
}  // namespace kiln::tasks
