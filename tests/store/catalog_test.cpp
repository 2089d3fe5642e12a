#include <gtest/gtest.h>

#include "kiln/core/error.hpp"
#include "kiln/store/catalog.hpp"
#include "kiln/store/layout.hpp"
#include "test_util.hpp"

namespace kiln::store {
namespace {

TEST(Catalog, RoundTrip) {
    test::TempDir dir;
    Catalog c;
    c.kiln_version = "0.1.0";
    c.created = "2026-11-27T00:00:00Z";
    c.dc = {{"titles", {{{"title", "T"}}}}};
    c.summary = {{"records", 3}};
    c.shards.push_back({0, "shards/shard-000000.h5", 2, 100, 1, xxh3_128("a")});
    c.shards.push_back({1, "shards/shard-000001.h5", 1, 5, 0, xxh3_128("b")});
    write_catalog(dir / "catalog.h5", c);
    const Catalog r = read_catalog(dir / "catalog.h5");
    EXPECT_EQ(r.schema_version, kSchemaVersion);
    EXPECT_EQ(r.dc, c.dc);
    EXPECT_EQ(r.summary, c.summary);
    ASSERT_EQ(r.shards.size(), 2U);
    EXPECT_EQ(r.shards[1].file, "shards/shard-000001.h5");
    EXPECT_EQ(r.shards[0].checksum, xxh3_128("a"));
    EXPECT_EQ(r.shards[0].errors, 1U);
}

TEST(Catalog, MissingCatalogSaysHowToResume) {
    test::TempDir dir;
    try {
        (void)read_catalog(dir / "catalog.h5");
        FAIL();
    } catch (const NoInputError& e) {
        EXPECT_NE(std::string(e.what()).find("kiln ingest"), std::string::npos);
    }
}

// A catalog written by kiln 0.1 (schema 1), checked in: later versions must still read it.
TEST(Catalog, ReadsTheSchema1GoldenFile) {
    const Catalog c = read_catalog(std::string(KILN_TEST_DATA) + "/golden/schema1/catalog.h5");
    EXPECT_EQ(c.schema_version, 1);
    EXPECT_EQ(c.dc["titles"][0]["title"], "golden");
    ASSERT_EQ(c.shards.size(), 1U);
    EXPECT_EQ(c.summary["records"], 3);
}

}  // namespace
}  // namespace kiln::store
