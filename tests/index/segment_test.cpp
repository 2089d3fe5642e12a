#include "kiln/index/segment.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <tuple>

#include "kiln/core/error.hpp"
#include "kiln/index/search.hpp"

namespace kiln::index {
namespace {

std::vector<std::uint32_t> rows_of(const Roaring& r) {
    std::vector<std::uint32_t> v(r.cardinality());
    r.toUint32Array(v.data());
    return v;
}

// A directory of its own under the temporary directory, removed with it (also when an
// assertion ends the test early).
struct ScratchDir {
    explicit ScratchDir(const std::string& name)
        : path(std::filesystem::temp_directory_path() /
               ("kiln-" + name + "-" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(path);
    }
    ~ScratchDir() { std::filesystem::remove_all(path); }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    std::filesystem::path path;
};

class SegmentTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("kiln-segment-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        path_ = (dir_ / "segment-000007.h5").string();
        SegmentBuilder b{IndexPolicy{}};
        const char* records[] = {
            R"({"material":{"elements":["Fe","O"],"composition":"Fe2O3"},"dft":{"energy":-6.5,"converged":true},"kiln":{"path":"a/x.cif"}})",
            R"({"material":{"elements":["Li","Fe","P","O"],"composition":"FeLiO4P"},"dft":{"energy":-6.9,"converged":false},"kiln":{"path":"a/y.cif"}})",
            R"({"material":{"elements":["Si"]},"custom":{"note":"hello","n":[1,2,3]},"kiln":{"path":"b/z.xyz"},"dft":{"energy":null}})",
            R"({"kiln":{"path":"b/w.txt"},"custom":{"mixed":"x"}})",
            R"({"kiln":{"path":"b/v.txt"},"custom":{"mixed":4}})",
        };
        for (std::uint32_t i = 0; i < 5; ++i) b.add_json(i, records[i]);
        b.write(path_, 7, 5, Hash128{1, 2}, false);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
    std::string path_;
};

TEST_F(SegmentTest, FieldsTypesAndCounts) {
    const SegmentReader s(path_);
    EXPECT_EQ(s.shard_id(), 7U);
    EXPECT_EQ(s.records(), 5U);
    EXPECT_EQ(s.shard_checksum(), (Hash128{1, 2}).hex());
    const auto* el = s.field("material.elements");
    ASSERT_NE(el, nullptr);
    EXPECT_EQ(el->type, FieldType::kKeyword);
    EXPECT_EQ(el->records, 3U);
    EXPECT_EQ(s.field("dft.energy")->type, FieldType::kNumber);
    EXPECT_EQ(s.field("dft.energy")->records, 2U);  // null is absent
    EXPECT_EQ(s.field("dft.converged")->type, FieldType::kBoolean);
    EXPECT_EQ(s.field("custom.mixed")->type, FieldType::kMixed);
    EXPECT_EQ(s.field("nope"), nullptr);
}

TEST_F(SegmentTest, TermsPrefixesRangesExists) {
    const SegmentReader s(path_);
    const auto& el = *s.field("material.elements");
    EXPECT_EQ(rows_of(s.term(el, "Fe")), (std::vector<std::uint32_t>{0, 1}));
    EXPECT_EQ(rows_of(s.term(el, "Si")), (std::vector<std::uint32_t>{2}));
    EXPECT_TRUE(s.term(el, "Xx").isEmpty());
    const auto& path = *s.field("kiln.path");
    EXPECT_EQ(rows_of(s.prefix(path, "b/")), (std::vector<std::uint32_t>{2, 3, 4}));
    EXPECT_EQ(rows_of(s.prefix(path, "a/x")), (std::vector<std::uint32_t>{0}));
    const auto& e = *s.field("dft.energy");
    EXPECT_EQ(rows_of(s.range(e, -7, true, -6.5, true)), (std::vector<std::uint32_t>{0, 1}));
    EXPECT_EQ(rows_of(s.range(e, -7, true, -6.5, false)), (std::vector<std::uint32_t>{1}));
    EXPECT_EQ(rows_of(s.range(e, -6.9, false, INFINITY, true)), (std::vector<std::uint32_t>{0}));
    EXPECT_EQ(rows_of(s.range(*s.field("custom.n"), 2, true, 2, true)),
              (std::vector<std::uint32_t>{2}));
    EXPECT_EQ(rows_of(s.exists(*s.field("custom.mixed"))), (std::vector<std::uint32_t>{3, 4}));
    // custom.* is not keyword-indexed by default: its strings have no terms.
    EXPECT_TRUE(s.term(*s.field("custom.note"), "hello").isEmpty());
    EXPECT_EQ(s.all().cardinality(), 5U);
}

TEST_F(SegmentTest, TermListsAndNumbers) {
    const SegmentReader s(path_);
    const auto counts = s.term_counts(*s.field("material.elements"));
    ASSERT_EQ(counts.size(), 5U);
    EXPECT_EQ(counts[0], (std::pair<std::string, std::uint64_t>{"Fe", 2}));
    EXPECT_EQ(counts[3], (std::pair<std::string, std::uint64_t>{"P", 1}));
    const auto& nums = s.numbers(*s.field("dft.energy"));
    ASSERT_EQ(nums.values.size(), 2U);
    EXPECT_EQ(nums.values[0], -6.9);
    EXPECT_EQ(nums.rows[0], 1U);
    const auto& el = *s.field("material.elements");
    const TermTexts& texts = s.term_texts(el);
    std::vector<std::string> all;
    for (std::size_t i = 0; i < texts.size(); ++i) all.emplace_back(texts[i]);
    EXPECT_EQ(all, (std::vector<std::string>{"Fe", "Li", "O", "P", "Si"}));
    EXPECT_EQ(texts.lower_bound("Li"), 1U);
    EXPECT_EQ(texts.lower_bound("M"), 2U);
    EXPECT_EQ(texts.lower_bound("Z"), 5U);
    EXPECT_EQ(texts.prefix_range("S"), (std::pair<std::size_t, std::size_t>{4, 5}));
    EXPECT_EQ(texts.prefix_range("Fe"), (std::pair<std::size_t, std::size_t>{0, 1}));
    EXPECT_EQ(texts.prefix_range("Q"), (std::pair<std::size_t, std::size_t>{4, 4}));
    EXPECT_EQ(texts.prefix_range(""), (std::pair<std::size_t, std::size_t>{0, 5}));
    EXPECT_EQ(rows_of(s.posting(el, 2)), (std::vector<std::uint32_t>{0, 1}));
    // Read again: served from the reader's cache, the same rows.
    EXPECT_EQ(rows_of(s.term(el, "O")), (std::vector<std::uint32_t>{0, 1}));
}

TEST_F(SegmentTest, RefusesWhatIsNotASegment) {
    EXPECT_THROW(SegmentReader((dir_ / "missing.h5").string()), NoInputError);
    SegmentBuilder bad{IndexPolicy{}};
    EXPECT_THROW(bad.add_json(0, "{not json"), DataError);
}

TEST_F(SegmentTest, APolicyAttributeThatIsNotJsonIsADataErrorNamingTheFile) {
    {  // the attribute rewritten in place (variable-length string)
        const hid_t file = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
        ASSERT_GE(file, 0);
        const hid_t attr = H5Aopen(file, "policy", H5P_DEFAULT);
        const hid_t type = H5Aget_type(attr);
        const char* bad = "{not json";
        EXPECT_GE(H5Awrite(attr, type, &bad), 0);
        H5Tclose(type);
        H5Aclose(attr);
        H5Fclose(file);
    }
    const SegmentReader seg(path_);
    try {
        (void)seg.policy();
        FAIL() << "no error";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find(path_), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("policy attribute is not JSON"), std::string::npos);
    }
}

TEST_F(SegmentTest, MergedSegmentsHoldEveryShardsRowsOneAfterAnother) {
    // A second segment (shard 9, 3 rows) where custom.mixed is only a keyword and
    // dft.energy has a value equal to one of shard 7's.
    const std::string second = (dir_ / "segment-000009.h5").string();
    SegmentBuilder b{IndexPolicy{}};
    b.add_json(0, R"({"material":{"elements":["Fe"],"composition":"Fe"},"dft":{"energy":-6.9}})");
    b.add_json(1, R"({"custom":{"mixed":"y"},"kiln":{"path":"c/u.cif"}})");
    b.add_json(2, R"({"material":{"elements":["O","Zn"],"composition":"ZnO"},"dft":{"energy":1}})");
    b.write(second, 9, 3, Hash128{3, 4}, false);
    const std::string merged = (dir_ / "merged.h5").string();
    merge_segments({path_, second}, {7, 9}, {"sum7", "sum9"}, merged, false);

    const SegmentReader m(merged);
    EXPECT_EQ(m.records(), 8U);
    ASSERT_EQ(m.merged_shards().size(), 2U);
    EXPECT_EQ(m.merged_shards()[1].shard_id, 9U);
    EXPECT_EQ(m.merged_shards()[1].row_base, 5U);
    EXPECT_EQ(m.merged_shards()[1].records, 3U);
    EXPECT_EQ(m.merged_shards()[0].segment_checksum, "sum7");
    const auto& el = *m.field("material.elements");
    EXPECT_EQ(el.records, 5U);
    EXPECT_EQ(rows_of(m.term(el, "Fe")), (std::vector<std::uint32_t>{0, 1, 5}));
    EXPECT_EQ(rows_of(m.term(el, "Zn")), (std::vector<std::uint32_t>{7}));
    EXPECT_EQ(rows_of(m.term(el, "Si")), (std::vector<std::uint32_t>{2}));
    const auto counts = m.term_counts(el);
    ASSERT_EQ(counts.size(), 6U);  // Fe Li O P Si Zn
    EXPECT_EQ(counts[0], (std::pair<std::string, std::uint64_t>{"Fe", 3}));
    EXPECT_EQ(counts[2], (std::pair<std::string, std::uint64_t>{"O", 3}));
    EXPECT_EQ(rows_of(m.prefix(*m.field("kiln.path"), "c/")), (std::vector<std::uint32_t>{6}));
    // Numbers stay sorted by (value, row) across shards.
    const auto& nums = m.numbers(*m.field("dft.energy"));
    EXPECT_EQ(nums.values, (std::vector<double>{-6.9, -6.9, -6.5, 1}));
    EXPECT_EQ(nums.rows, (std::vector<std::uint32_t>{1, 5, 0, 7}));
    EXPECT_EQ(m.field("dft.energy")->number_min, -6.9);
    EXPECT_EQ(m.field("dft.energy")->number_max, 1);
    // Mixed in one shard, keyword in the other: mixed; rows of both.
    EXPECT_EQ(m.field("custom.mixed")->type, FieldType::kMixed);
    EXPECT_EQ(rows_of(m.exists(*m.field("custom.mixed"))), (std::vector<std::uint32_t>{3, 4, 6}));
    EXPECT_NO_THROW(m.check_every_chunk());
    // A shard's own segment has no shard table.
    EXPECT_TRUE(SegmentReader(path_).merged_shards().empty());
}

TEST_F(SegmentTest, MergingRefusesMergedSegmentsAndShardsOutOfOrder) {
    const std::string merged = (dir_ / "merged.h5").string();
    merge_segments({path_}, {7}, {"sum7"}, merged, false);
    EXPECT_THROW(merge_segments({merged}, {7}, {"x"}, (dir_ / "m2.h5").string(), false),
                 UsageError);
    EXPECT_THROW(
        merge_segments({path_, path_}, {7, 7}, {"a", "b"}, (dir_ / "m3.h5").string(), false),
        UsageError);
    EXPECT_THROW(merge_segments({}, {}, {}, (dir_ / "m4.h5").string(), false), UsageError);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "m3.h5"));
}

TEST(SegmentTermsIndex, BlockLookupsEqualLookupsInTheWholeTermList) {
    // 1 000 distinct values (8 blocks of 128 and a short one) and a few that share prefixes
    // across block boundaries: every value, values between and around them, and prefixes of
    // every length, looked up through the block heads (a fresh reader) and through the whole
    // term list (a reader that has read it).
    const ScratchDir scratch("terms-index-test");
    const auto& dir = scratch.path;
    const std::string path = (dir / "segment.h5").string();
    SegmentBuilder b{IndexPolicy{}};
    std::vector<std::string> values;
    for (int i = 0; i < 1000; ++i) {
        values.push_back("F" + std::to_string(i * 7 % 1000) + (i % 3 == 0 ? "O" : "Li"));
    }
    for (std::uint32_t i = 0; i < values.size(); ++i) {
        b.add_json(i, R"({"material":{"composition":")" + values[i] + R"("}})");
    }
    b.write(path, 1, values.size(), Hash128{1, 1}, false);
    std::vector<std::string> probes = values;
    for (const auto& v : values) {
        for (std::size_t n = 0; n <= v.size(); ++n) probes.push_back(v.substr(0, n));
        probes.push_back(v + "x");
    }
    probes.insert(probes.end(), {"", "A", "Z", "F", "F1", "F99", "F999Li", "F999Liz", "\xff"});
    const SegmentReader whole(path);
    const auto& f = *whole.field("material.composition");
    ASSERT_EQ(whole.term_texts(f).size(), 1000U);
    ASSERT_EQ(f.block_end - f.block_begin, 8U);
    const SegmentReader blocks(path);  // never reads the whole list: the block path
    const auto& g = *blocks.field("material.composition");
    for (const auto& p : probes) {
        EXPECT_EQ(rows_of(blocks.term(g, p)), rows_of(whole.term(f, p))) << "term " << p;
        EXPECT_EQ(rows_of(blocks.prefix(g, p)), rows_of(whole.prefix(f, p))) << "prefix " << p;
    }
}

TEST(SegmentRowLists, PostingsKeptAsRowListsOrBitmapsAnswerAsAScan) {
    // 3 000 rows: a composition of 1 500 distinct values of two rows each (kept as row lists,
    // the smaller), a format of three values of 1 000 rows each (kept as Roaring bitmaps). Every
    // term and prefix, in a shard's segment and in a segment merged from two, against a scan.
    const ScratchDir scratch("row-lists-test");
    const auto& dir = scratch.path;
    const auto value_of = [](std::uint32_t row) {
        return std::pair{"c" + std::to_string((row * 7919) % 1500), "g" + std::to_string(row % 3)};
    };
    std::vector<std::string> paths, sums;
    for (std::uint32_t part = 0; part < 2; ++part) {
        SegmentBuilder b{IndexPolicy{}};
        for (std::uint32_t i = 0; i < 1500; ++i) {
            const auto [c, g] = value_of(part * 1500 + i);
            b.add(i, nlohmann::json{{"material", {{"composition", c}}}, {"kiln", {{"format", g}}}});
        }
        paths.push_back((dir / ("segment-" + std::to_string(part) + ".h5")).string());
        sums.push_back(std::to_string(part));
        b.write(paths.back(), part, 1500, Hash128{}, false);
    }
    const std::string merged = (dir / "merged.h5").string();
    merge_segments(paths, {0, 1}, sums, merged, false);
    {  // two values per record, each its own term: row lists, but no term per row
        SegmentBuilder two{IndexPolicy{}};
        for (std::uint32_t i = 0; i < 300; ++i) {
            two.add(i, nlohmann::json{{"material",
                                       {{"composition",
                                         {"x" + std::to_string(i), "y" + std::to_string(i)}}}}});
        }
        const std::string p = (dir / "two.h5").string();
        two.write(p, 5, 300, Hash128{}, false);
        const SegmentReader s(p);
        const auto& f = *s.field("material.composition");
        EXPECT_GT(f.row_end, f.row_begin);
        EXPECT_EQ(s.term_of_row(f), nullptr);
    }
    for (const auto& [path, first_row, rows] :
         std::vector<std::tuple<std::string, std::uint32_t, std::uint32_t>>{{paths[1], 1500, 1500},
                                                                            {merged, 0, 3000}}) {
        const SegmentReader s(path);
        const auto& c = *s.field("material.composition");
        const auto& g = *s.field("kiln.format");
        EXPECT_GT(c.row_end, c.row_begin) << path;  // row lists
        EXPECT_EQ(g.row_end, g.row_begin) << path;  // bitmaps
        const auto scan = [&](auto&& keep) {
            std::vector<std::uint32_t> out;
            for (std::uint32_t r = 0; r < rows; ++r) {
                if (keep(value_of(first_row + r))) out.push_back(r);
            }
            return out;
        };
        for (const std::string v : {"c0", "c7", "c1499", "c15", "c1500", "g1", "g3"}) {
            const auto& f = v[0] == 'c' ? c : g;
            const auto want = scan([&](const auto& cg) { return cg.first == v || cg.second == v; });
            EXPECT_EQ(rows_of(s.term(f, v)), want) << path << " term " << v;
            const auto want_prefix = scan([&](const auto& cg) {
                return cg.first.starts_with(v) || cg.second.starts_with(v);
            });
            EXPECT_EQ(rows_of(s.prefix(f, v)), want_prefix) << path << " prefix " << v;
        }
        EXPECT_EQ(rows_of(s.prefix(c, "c")).size(), rows);  // every block of c's terms
        // One term per record: each row's term number, from the row lists.
        const auto* ords = s.term_of_row(c);
        ASSERT_NE(ords, nullptr);
        for (std::uint32_t r = 0; r < rows; ++r)
            ASSERT_EQ(s.term_texts(c)[(*ords)[r]], value_of(first_row + r).first) << r;
        EXPECT_EQ(s.term_counts(c).size(), 1500U);
        EXPECT_NO_THROW(s.check_every_chunk());
    }
}

TEST(SegmentRowLists, SegmentsFromBeforeRowListsAreRead) {
    // kiln before row lists wrote no /fields/row_begin, /terms/row_offsets or /terms/rows and
    // kept every posting as a bitmap. A segment of bitmaps only, with those datasets removed,
    // is such a file: it must read the same.
    const ScratchDir scratch("old-segment-test");
    const auto& dir = scratch.path;
    const std::string path = (dir / "segment.h5").string();
    SegmentBuilder b{IndexPolicy{}};
    for (std::uint32_t i = 0; i < 1000; ++i)
        b.add(i, nlohmann::json{{"kiln", {{"format", i % 3 == 0 ? "cif" : "xyz"}}}});
    b.write(path, 1, 1000, Hash128{}, false);
    {
        const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
        ASSERT_GE(file, 0);
        for (const char* name : {"/fields/row_begin", "/terms/row_offsets", "/terms/rows"})
            EXPECT_GE(H5Ldelete(file, name, H5P_DEFAULT), 0) << name;
        H5Fclose(file);
    }
    const SegmentReader s(path);
    const auto& f = *s.field("kiln.format");
    EXPECT_EQ(f.row_begin, f.row_end);
    std::vector<std::uint32_t> cif;
    for (std::uint32_t i = 0; i < 1000; i += 3) cif.push_back(i);
    EXPECT_EQ(rows_of(s.term(f, "cif")), cif);
    EXPECT_EQ(rows_of(s.prefix(f, "xy")).size(), 666U);
    EXPECT_NO_THROW(s.check_every_chunk());
}

TEST(SegmentRange, NarrowAndWideRangesMatchAScan) {
    const ScratchDir scratch("range-test");
    const auto& dir = scratch.path;
    const std::string path = (dir / "segment.h5").string();
    SegmentBuilder b{IndexPolicy{}};
    std::vector<std::vector<double>> values(500);
    for (std::uint32_t i = 0; i < 500; ++i) {
        // Multi-valued: x holds (i * 7) % 100 and, for every third row, also i % 13.
        values[i].push_back((i * 7) % 100);
        if (i % 3 == 0) values[i].push_back(i % 13);
        nlohmann::json rec = {{"x", values[i]}};
        b.add(i, rec);
    }
    b.write(path, 1, 500, Hash128{}, false);
    const SegmentReader s(path);
    const auto& f = *s.field("x");
    for (const auto& [lo, hi] : std::vector<std::pair<double, double>>{
             {3, 3}, {10, 12}, {0, 99}, {5, 90}, {-1, 200}, {98.5, 1000}}) {
        for (const bool inc : {true, false}) {
            std::vector<std::uint32_t> want;
            for (std::uint32_t i = 0; i < 500; ++i) {
                for (const double v : values[i]) {
                    if ((inc ? v >= lo && v <= hi : v > lo && v < hi)) {
                        want.push_back(i);
                        break;
                    }
                }
            }
            EXPECT_EQ(rows_of(s.range(f, lo, inc, hi, inc)), want) << lo << " " << hi << " " << inc;
        }
    }
}

TEST(SegmentRange, RangesFromTheNumbersIndexEqualRangesOverTheWholeColumn) {
    // 20 000 rows, some with two values: runs of equal values across block edges (every
    // kNumberBlock numbers), one value per row at a block head. A reader that never reads the
    // whole column (the block path) against one that has (and against a scan); then the same
    // segment with its numbers index removed, as kiln wrote them before.
    const ScratchDir scratch("number-blocks-test");
    const std::string path = (scratch.path / "segment.h5").string();
    constexpr std::uint32_t kRows = 20000;
    const auto values_of = [](std::uint32_t i) {
        std::vector<double> v{static_cast<double>(i / 5000)};
        if (i % 7 == 0) v.push_back(0.5 * (i % 11));
        return v;
    };
    SegmentBuilder b{IndexPolicy{}};
    for (std::uint32_t i = 0; i < kRows; ++i) b.add(i, nlohmann::json{{"x", values_of(i)}});
    b.write(path, 1, kRows, Hash128{}, false);
    const auto scan = [&](double lo, bool lo_inc, double hi, bool hi_inc) {
        std::vector<std::uint32_t> rows;
        for (std::uint32_t i = 0; i < kRows; ++i) {
            for (const double v : values_of(i)) {
                if ((lo_inc ? v >= lo : v > lo) && (hi_inc ? v <= hi : v < hi)) {
                    rows.push_back(i);
                    break;
                }
            }
        }
        return rows;
    };
    {  // the readers close the file before it is changed below
        const SegmentReader blocks(path);
        const SegmentReader whole(path);
        const auto& f = *blocks.field("x");
        const auto& g = *whole.field("x");
        ASSERT_EQ(f.number_end - f.number_begin, 22858U);
        ASSERT_EQ(f.number_block_end - f.number_block_begin, 6U);
        (void)whole.numbers(g);  // from now on its ranges read the column it holds
        const std::vector<double> bounds{-1, 0, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 4, 4.5, 5, 6};
        for (const double lo : bounds) {
            for (const double hi : bounds) {
                for (const int inc : {0, 1, 2, 3}) {
                    const bool lo_inc = (inc & 1) != 0, hi_inc = (inc & 2) != 0;
                    const auto want = scan(lo, lo_inc, hi, hi_inc);
                    ASSERT_EQ(rows_of(blocks.range(f, lo, lo_inc, hi, hi_inc)), want)
                        << lo << " " << hi << " " << inc;
                    ASSERT_EQ(rows_of(whole.range(g, lo, lo_inc, hi, hi_inc)), want);
                }
            }
        }
    }
    {
        const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
        ASSERT_GE(file, 0);
        for (const char* name : {"/fields/number_block_begin", "/numbers/block_values"})
            EXPECT_GE(H5Ldelete(file, name, H5P_DEFAULT), 0) << name;
        H5Fclose(file);
    }
    const SegmentReader old(path);
    const auto& o = *old.field("x");
    EXPECT_EQ(o.number_block_begin, o.number_block_end);
    EXPECT_EQ(rows_of(old.range(o, 1, true, 2, false)), scan(1, true, 2, false));
    EXPECT_NO_THROW(old.check_every_chunk());
}

TEST(IndexPolicy, PatternsAndJson) {
    IndexPolicy p;
    EXPECT_TRUE(p.is_keyword("material.elements"));
    EXPECT_TRUE(p.is_keyword("kiln.path"));
    EXPECT_FALSE(p.is_keyword("kiln.pathx"));
    EXPECT_FALSE(p.is_keyword("custom.label"));
    p.keyword_fields.emplace_back("custom.*");
    EXPECT_TRUE(p.is_keyword("custom.label"));
    EXPECT_EQ(IndexPolicy::from_json(p.to_json()).keyword_fields, p.keyword_fields);
    EXPECT_THROW((void)IndexPolicy::from_json(nlohmann::json::array()), DataError);
}

TEST(Flatten, TextAndDocumentGiveTheSameLeaves) {
    const std::string text =
        R"({"b":{"x":[1,2.5,{"y":"s"}],"t":true,"n":null},"a":"é","big":18446744073709551615})";
    std::vector<std::string> from_text, from_doc;
    const auto show = [](std::vector<std::string>& out) {
        return [&out](const Leaf& l) {
            out.push_back(
                std::string(l.field) + "=" +
                (l.kind == ValueKind::kNumber ? format_number(l.number) : std::string(l.text)));
        };
    };
    flatten_text(text, show(from_text));
    flatten(nlohmann::json::parse(text), show(from_doc));
    std::sort(from_text.begin(), from_text.end());
    std::sort(from_doc.begin(), from_doc.end());
    EXPECT_EQ(from_text, from_doc);
    EXPECT_EQ(from_text.size(), 6U);
}

TEST(ForEachRow, VisitsEveryRowInOrderThroughEveryKindOfContainer) {
    Roaring r;  // an array container, a bitmap container, a run container, and across them
    for (std::uint32_t i = 0; i < 3000; i += 7) r.add(i);
    for (std::uint32_t i = 65536; i < 65536 + 40000; i += 2) r.add(i);
    r.addRange(200000, 300000);
    r.runOptimize();
    r.add(4000000000U);
    std::vector<std::uint32_t> seen;
    for_each_row(r, [&](std::uint32_t row) { seen.push_back(row); });
    EXPECT_EQ(seen, rows_of(r));
    EXPECT_EQ(seen.size(), 429U + 20000U + 100000U + 1U);
    seen.clear();
    for_each_row(Roaring{}, [&](std::uint32_t row) { seen.push_back(row); });
    EXPECT_TRUE(seen.empty());
}

TEST(NumberStats, FewAndManyHitsSumInColumnOrderPerShardAndMergedAlike) {
    // Two shards of 3 000 rows; x spans 1e15 to 0.001 so that the order of the additions
    // shows in the sums' last bits. The reference sums each shard's hits in the order of its
    // number column (by value), then shard after shard.
    const ScratchDir scratch("number-stats-test");
    constexpr std::uint32_t kRows = 3000;
    const auto x = [](std::uint32_t shard, std::uint32_t i) {
        const double big = (i % 3 == 0 ? 1e15 : 0.1) * (i % 2 == 0 ? 1 : -1);
        return big + shard * 7.0 + i * 1e-3;
    };
    std::vector<std::string> paths;
    for (std::uint32_t shard = 1; shard <= 2; ++shard) {
        paths.push_back((scratch.path / ("segment-" + std::to_string(shard) + ".h5")).string());
        SegmentBuilder b{IndexPolicy{}};
        for (std::uint32_t i = 0; i < kRows; ++i) b.add(i, nlohmann::json{{"x", x(shard, i)}});
        b.write(paths.back(), shard, kRows, Hash128{}, false);
    }
    const std::string merged_path = (scratch.path / "merged.h5").string();
    merge_segments(paths, {1, 2}, {"a", "b"}, merged_path, false);
    const auto bit_equal = [](const NumberStats& a, const NumberStats& b) {
        return a.count == b.count &&
               std::bit_cast<std::uint64_t>(a.sum) == std::bit_cast<std::uint64_t>(b.sum) &&
               a.min == b.min && a.max == b.max;
    };
    for (const std::uint32_t every : {97U, 2U}) {  // few hits, then many
        Roaring hits;  // rows of the merged segment: shard 1's, then shard 2's
        for (std::uint32_t r = 0; r < 2 * kRows; r += every) hits.add(r);
        NumberStats want;
        std::vector<NumberStats> per_shard_results;
        for (std::uint32_t shard = 1; shard <= 2; ++shard) {
            const SegmentReader seg(paths[shard - 1]);
            const auto& f = *seg.field("x");
            Roaring local;
            for (std::uint32_t r = 0; r < kRows; ++r) {
                if (hits.contains((shard - 1) * kRows + r)) local.add(r);
            }
            NumberStats s;
            const auto& nums = seg.numbers(f);
            for (std::size_t i = 0; i < nums.values.size(); ++i) {
                if (local.contains(nums.rows[i])) s.add(nums.values[i]);
            }
            want.merge(s);
            // A shard's own segment: the first call passes over the column, the next ones
            // look each hit up.
            for (int call = 0; call < 3; ++call) {
                EXPECT_TRUE(bit_equal(number_stats(seg, f, local), s))
                    << "shard " << shard << ", every " << every << ", call " << call;
            }
        }
        const SegmentReader merged(merged_path);
        const auto& f = *merged.field("x");
        for (int call = 0; call < 3; ++call) {
            const NumberStats got = number_stats(merged, f, hits);
            EXPECT_TRUE(bit_equal(got, want)) << "merged, every " << every << ", call " << call
                                              << ": sum " << got.sum << " against " << want.sum;
        }
        EXPECT_EQ(want.count, (2 * kRows + every - 1) / every);
    }
}

TEST(SearchHelpers, FormatNumberAndStats) {
    EXPECT_EQ(format_number(225), "225");
    EXPECT_EQ(format_number(-0.5), "-0.5");
    EXPECT_EQ(format_number(0.1), "0.1");
    EXPECT_EQ(std::stod(format_number(1.0 / 3)), 1.0 / 3);
    NumberStats a, b;
    a.add(1);
    a.add(3);
    b.add(-2);
    a.merge(b);
    a.merge(NumberStats{});
    EXPECT_EQ(a.count, 3U);
    EXPECT_EQ(a.min, -2);
    EXPECT_EQ(a.max, 3);
    EXPECT_EQ(a.sum, 2);
}

TEST(SearchHelpers, ShardResultJsonRoundTrip) {
    ShardResult r;
    r.shard_id = 3;
    r.matches = 10;
    r.hits.push_back(Hit{3, 4, SortKey{false, true, 2.5, ""}});
    r.hits.push_back(Hit{3, 9, SortKey{false, false, 0, "Fe2O3"}});
    r.counts["Fe"] = 7;
    r.stats.add(1.5);
    const auto back = shard_result_from_json(nlohmann::json::parse(to_json(r).dump()));
    EXPECT_EQ(back.shard_id, 3U);
    EXPECT_EQ(back.matches, 10U);
    ASSERT_EQ(back.hits.size(), 2U);
    EXPECT_EQ(back.hits[1].id(), (std::uint64_t{3} << 32) | 9U);
    EXPECT_EQ(back.hits[1].key.text, "Fe2O3");
    EXPECT_EQ(back.counts.at("Fe"), 7U);
    EXPECT_EQ(back.stats.count, 1U);
}

}  // namespace
}  // namespace kiln::index
