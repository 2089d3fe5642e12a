#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "kiln/core/error.hpp"
#include "kiln/ingest/walk.hpp"
#include "test_util.hpp"

namespace kiln::ingest {
namespace {

std::map<std::string, InputFile> by_path(const std::vector<InputFile>& files) {
    std::map<std::string, InputFile> m;
    for (const auto& f : files) m[f.record_path] = f;
    return m;
}

TEST(Walk, FilesLinksAndProblems) {
    test::TempDir dir;
    const std::string root = dir / "tree";
    test::write_text(root + "/a.cif", "data_a\n");
    test::write_text(root + "/sub/b.json", "{}");
    test::write_text(dir / "outside.txt", "secret");
    ASSERT_EQ(::symlink("a.cif", (root + "/link-in").c_str()), 0);
    ASSERT_EQ(::symlink((dir / "outside.txt").c_str(), (root + "/link-out").c_str()), 0);
    ASSERT_EQ(::symlink("nowhere", (root + "/broken").c_str()), 0);
    ASSERT_EQ(::symlink("..", (root + "/sub/loop").c_str()), 0);
    ASSERT_EQ(::mkfifo((root + "/fifo").c_str(), 0600), 0);
    test::write_text(root +
                         "/bad\xff"
                         "name",
                     "x");

    const auto files = walk_inputs({root}, {});
    const auto m = by_path(files);
    EXPECT_TRUE(std::is_sorted(files.begin(), files.end(), [](const auto& a, const auto& b) {
        return a.record_path < b.record_path;
    }));
    EXPECT_EQ(m.at("tree/a.cif").size, 7U);
    EXPECT_EQ(m.at("tree/a.cif").error, "");
    EXPECT_EQ(m.at("tree/sub/b.json").error, "");
    EXPECT_EQ(m.at("tree/link-in").error, "");  // inside the root: followed
    EXPECT_NE(m.at("tree/link-out").error.find("outside the input root"), std::string::npos);
    EXPECT_EQ(m.at("tree/broken").error, "broken symbolic link");
    EXPECT_NE(m.at("tree/sub/loop").error.find("loop"), std::string::npos);
    EXPECT_NE(m.at("tree/fifo").error.find("not a regular file"), std::string::npos);
    EXPECT_NE(m.at("tree/bad\\xFFname").error.find("UTF-8"), std::string::npos);

    const auto followed = by_path(walk_inputs({root}, {true}));
    EXPECT_EQ(followed.at("tree/link-out").error, "");
    EXPECT_EQ(followed.at("tree/link-out").size, 6U);
}

// Every field of every entry, in order.
std::vector<std::string> entries(const std::vector<InputFile>& files) {
    std::vector<std::string> out;
    for (const auto& f : files)
        out.push_back(f.record_path + "|" + f.source_path + "|" + std::to_string(f.size) + "|" +
                      f.error);
    return out;
}

TEST(Walk, ThreadsGiveTheWalkInOrder) {
    test::TempDir dir;
    const std::string root = dir / "tree";
    for (int d = 0; d < 7; ++d) {
        for (int f = 0; f < 5; ++f) {
            test::write_text(root + "/d" + std::to_string(d) + "/s/f" + std::to_string(f),
                             std::string(static_cast<std::size_t>(d * 10 + f), 'x'));
        }
    }
    test::write_text(root + "/top.cif", "data_a\n");
    test::write_text(dir / "outside.txt", "secret");
    ASSERT_EQ(::symlink("top.cif", (root + "/d1/link-in").c_str()), 0);
    ASSERT_EQ(::symlink((dir / "outside.txt").c_str(), (root + "/d2/link-out").c_str()), 0);
    ASSERT_EQ(::symlink("nowhere", (root + "/d3/broken").c_str()), 0);
    ASSERT_EQ(::mkfifo((root + "/d4/fifo").c_str(), 0600), 0);
    ASSERT_EQ(::mkdir((root + "/d5/locked").c_str(), 0), 0);  // unreadable, unless root
    const auto in_order = walk_inputs({root}, {false, 1});
    ASSERT_EQ(in_order.size(), 7U * 5U + 5U + (::geteuid() == 0 ? 0U : 1U));
    for (const int threads : {2, 3, 8, 64}) {
        EXPECT_EQ(entries(walk_inputs({root}, {false, threads})), entries(in_order)) << threads;
        EXPECT_EQ(entries(walk_inputs({root}, {true, threads})),
                  entries(walk_inputs({root}, {true, 1})))
            << threads;
    }
    // Links to directories: which of two names of one directory is "already visited" depends
    // on the order, so the threads give way to one walk in order (same answer).
    ASSERT_EQ(::symlink("../d0", (root + "/d6/to-d0").c_str()), 0);
    ASSERT_EQ(::symlink("..", (root + "/d6/s/loop").c_str()), 0);
    const auto with_links = walk_inputs({root}, {false, 1});
    EXPECT_EQ(entries(walk_inputs({root}, {false, 4})), entries(with_links));
    const auto m = by_path(with_links);
    // d0 was walked before d6, so its second name is refused as already visited.
    EXPECT_NE(m.at("tree/d6/to-d0").error.find("already visited"), std::string::npos);
    EXPECT_NE(m.at("tree/d6/s/loop").error.find("loop"), std::string::npos);
    ::chmod((root + "/d5/locked").c_str(), 0700);
}

TEST(Walk, MissingInputAndDuplicateNames) {
    test::TempDir dir;
    try {
        (void)walk_inputs({dir / "nope"}, {});
        FAIL();
    } catch (const NoInputError& e) {
        EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
    }
    test::write_text(dir / "x/data/f", "1");
    test::write_text(dir / "y/data/g", "2");
    EXPECT_THROW((void)walk_inputs({dir / "x/data", dir / "y/data"}, {}), UsageError);
}

TEST(Walk, SingleFileInput) {
    test::TempDir dir;
    test::write_text(dir / "POSCAR", "abc");
    const auto files = walk_inputs({dir / "POSCAR"}, {});
    ASSERT_EQ(files.size(), 1U);
    EXPECT_EQ(files[0].record_path, "POSCAR");
    EXPECT_EQ(files[0].size, 3U);
}

}  // namespace
}  // namespace kiln::ingest
