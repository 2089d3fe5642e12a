#include <gtest/gtest.h>

#include <filesystem>

#include "kiln/core/error.hpp"
#include "kiln/store/layout.hpp"
#include "kiln/store/shard.hpp"
#include "test_util.hpp"

namespace kiln::store {
namespace {

RecordRow make_row(std::uint64_t shard, std::uint64_t row, const std::string& path,
                   const std::string& bytes, ShardWriter& w) {
    RecordRow r;
    r.id = record_id(shard, row);
    r.path = path;
    r.format = "unknown";
    r.mime_type = "text/plain";
    r.size = bytes.size();
    r.checksum = xxh3_128(bytes);
    r.packed = true;
    r.offset = w.append_blob(bytes.data(), bytes.size());
    r.metadata_json = "{\"kiln\":{\"path\":\"" + path + "\"}}";
    return r;
}

TEST(Shard, RoundTripsRecordsAndBytes) {
    test::TempDir dir;
    const Layout layout(dir.path());
    std::filesystem::create_directories(layout.shards_dir());
    const std::string big(3 << 20, 'b');  // spans several blob chunks
    Hash128 file_sum;
    {
        ShardWriter w(layout.shard(4), 4, "unit-test");
        w.add_record(make_row(4, 0, "a.txt", "hello", w));
        w.add_record(make_row(4, 1, "big.bin", big, w));
        RecordRow err;
        err.id = record_id(4, 2);
        err.path = "broken";
        err.error = "broken symbolic link";
        w.add_record(err);
        EXPECT_TRUE(std::filesystem::exists(layout.shard(4) + ".tmp"));
        file_sum = w.commit();
    }
    EXPECT_FALSE(std::filesystem::exists(layout.shard(4) + ".tmp"));
    EXPECT_EQ(xxh3_128_file(layout.shard(4)), file_sum);
    const ShardReader r(layout.shard(4));
    EXPECT_EQ(r.shard_id(), 4U);
    EXPECT_EQ(r.source(), "unit-test");
    EXPECT_EQ(r.schema_version(), kSchemaVersion);
    const auto rows = r.records();
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].path, "a.txt");
    EXPECT_EQ(r.read_bytes(rows[0]), "hello");
    EXPECT_EQ(r.read_bytes(rows[1]), big);
    EXPECT_EQ(rows[1].checksum, xxh3_128(big));
    EXPECT_EQ(rows[2].error, "broken symbolic link");
    EXPECT_FALSE(rows[2].packed);
    EXPECT_THROW((void)r.read_bytes(rows[2]), DataError);
}

TEST(Shard, TruncateUndoesAPartialRecord) {
    test::TempDir dir;
    {
        ShardWriter w(dir / "s.h5", 0, "t");
        w.add_record(make_row(0, 0, "keep", "abc", w));
        const std::uint64_t mark = w.blob_size();
        const std::string junk(2 << 20, 'j');
        w.append_blob(junk.data(), junk.size());
        w.truncate_blob(mark);
        w.add_record(make_row(0, 1, "next", "defg", w));
        w.commit();
    }
    const ShardReader r(dir / "s.h5");
    EXPECT_EQ(r.blob_size(), 7U);
    const auto rows = r.records();
    EXPECT_EQ(r.read_bytes(rows[1]), "defg");
}

TEST(Shard, UncommittedWriterLeavesNothing) {
    test::TempDir dir;
    {
        ShardWriter w(dir / "s.h5", 0, "t");
        w.add_record(make_row(0, 0, "x", "y", w));
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "s.h5"));
    EXPECT_FALSE(std::filesystem::exists(dir / "s.h5.tmp"));
}

TEST(Shard, RejectsOutOfOrderIdsAndForeignFiles) {
    test::TempDir dir;
    ShardWriter w(dir / "s.h5", 1, "t");
    RecordRow r;
    r.id = record_id(1, 5);
    EXPECT_THROW(w.add_record(r), Error);
    test::write_text(dir / "not.h5", "plain text");
    EXPECT_THROW(ShardReader(dir / "not.h5"), IoError);
}

TEST(Layout, Names) {
    const Layout l("/data/set/");
    EXPECT_EQ(l.root(), "/data/set");
    EXPECT_EQ(l.shard(42), "/data/set/shards/shard-000042.h5");
    EXPECT_EQ(Layout::shard_relative(7), "shards/shard-000007.h5");
    EXPECT_EQ(l.catalog(), "/data/set/catalog.h5");
}

}  // namespace
}  // namespace kiln::store

namespace kiln::store {
namespace {

// A shard written by kiln 0.1 (schema 1), checked in: later versions must still read it.
TEST(Shard, ReadsTheSchema1GoldenFile) {
    const ShardReader r(std::string(KILN_TEST_DATA) + "/golden/schema1/shards/shard-000000.h5");
    EXPECT_EQ(r.schema_version(), 1);
    const auto rows = r.records();
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].path, "golden/POSCAR");
    EXPECT_EQ(r.read_bytes(rows[0]), "Si\n1.0\n");
    EXPECT_EQ(rows[1].path, "golden/e.json");
    EXPECT_EQ(rows[1].mime_type, "application/json");
    EXPECT_EQ(rows[2].format, "cif");
    EXPECT_EQ(xxh3_128(r.read_bytes(rows[2])), rows[2].checksum);
}

}  // namespace
}  // namespace kiln::store
