#include <gtest/gtest.h>

#include "kiln/core/error.hpp"
#include "kiln/ingest/ingest.hpp"

namespace kiln::ingest {
namespace {

std::vector<InputFile> files(int n) {
    std::vector<InputFile> v;
    for (int i = 0; i < n; ++i) {
        v.push_back({"/abs/f" + std::to_string(i), "in/f" + std::to_string(i),
                     static_cast<std::uint64_t>(100 + i), i == 3 ? "broken symbolic link" : ""});
    }
    return v;
}

TEST(IngestPlan, ShardsCoverEveryFileInOrder) {
    IngestOptions o;
    o.shard_bytes = 1000;
    const auto plan = plan_ingest(files(50), o, {"/abs"});
    EXPECT_EQ(plan.total_files, 50U);
    std::size_t next = 0;
    for (std::size_t u = 0; u < plan.units.size(); ++u) {
        EXPECT_EQ(plan.units[u].shard_id, u);
        for (const auto& f : plan.units[u].files)
            EXPECT_EQ(f.record_path, "in/f" + std::to_string(next++));
    }
    EXPECT_EQ(next, 50U);
    EXPECT_GT(plan.units.size(), 5U);
}

TEST(IngestPlan, DigestDependsOnInputsAndOutputOptionsOnly) {
    IngestOptions o;
    const auto base = plan_ingest(files(10), o, {"/abs"}).digest;
    EXPECT_EQ(plan_ingest(files(10), o, {"/abs"}).digest, base);
    IngestOptions threads = o;
    threads.threads = 8;
    threads.fsync = false;
    EXPECT_EQ(plan_ingest(files(10), threads, {"/abs"}).digest, base);
    IngestOptions nopack = o;
    nopack.pack = false;
    EXPECT_NE(plan_ingest(files(10), nopack, {"/abs"}).digest, base);
    EXPECT_NE(plan_ingest(files(11), o, {"/abs"}).digest, base);
    auto changed = files(10);
    changed[4].size += 1;
    EXPECT_NE(plan_ingest(changed, o, {"/abs"}).digest, base);
}

TEST(IngestPlan, UnitPayloadRoundTripsRawBytes) {
    UnitSpec u;
    u.shard_id = 9;
    u.files = files(3);
    u.files[1].source_path = std::string("/abs/bad\xff\0name", 14);
    const UnitSpec back = decode_unit(encode_unit(u));
    EXPECT_EQ(back.shard_id, 9U);
    ASSERT_EQ(back.files.size(), 3U);
    EXPECT_EQ(back.files[1].source_path, u.files[1].source_path);
    EXPECT_EQ(back.files[2].size, u.files[2].size);
    EXPECT_THROW((void)decode_unit(encode_unit(u).substr(0, 30)), Error);
}

TEST(DataCite, BuildsMdfStyleBlock) {
    DatasetMetadata m;
    m.title = "Test set";
    m.authors = {"Ong, Shyue Ping", "Jain,Anubhav"};
    m.affiliations = {"UCSD"};
    m.tags = {"dft"};
    m.doi = "10.1234/x";
    m.publication_year = "2026";
    const auto dc = datacite_block(m);
    EXPECT_EQ(dc["titles"][0]["title"], "Test set");
    EXPECT_EQ(dc["creators"][1]["creatorName"], "Jain, Anubhav");
    EXPECT_EQ(dc["creators"][1]["familyName"], "Jain");
    EXPECT_EQ(dc["creators"][0]["affiliations"][0], "UCSD");
    EXPECT_EQ(dc["identifier"]["identifierType"], "DOI");
    EXPECT_EQ(dc["publicationYear"], "2026");
    m.authors = {"Madonna"};
    EXPECT_THROW((void)datacite_block(m), UsageError);
}

TEST(IngestPlan, AVaspRunStaysInOneShardNextToItsFirstFile) {
    // Walk order puts run/sub/ between the run's files; 150-byte shards would cut the run.
    std::vector<InputFile> walked;
    for (const char* p : {"in/a.cif", "in/run/INCAR", "in/run/OUTCAR", "in/run/sub/x.cif",
                          "in/run/sub/y.cif", "in/run/vasprun.xml", "in/z.cif"}) {
        walked.push_back({std::string("/abs/") + p, p, 100, ""});
    }
    IngestOptions o;
    o.shard_bytes = 150;
    const auto plan = plan_ingest(walked, o, {"/abs"});
    std::vector<std::vector<std::string>> shards;
    for (const auto& u : plan.units) {
        shards.emplace_back();
        for (const auto& f : u.files) shards.back().push_back(f.record_path);
    }
    const std::vector<std::vector<std::string>> want = {
        {"in/a.cif"},
        {"in/run/INCAR", "in/run/OUTCAR", "in/run/vasprun.xml"},
        {"in/run/sub/x.cif"},
        {"in/run/sub/y.cif"},
        {"in/z.cif"}};
    EXPECT_EQ(shards, want);
    // Without grouping: walk order, a file per shard; and grouping is part of the digest.
    IngestOptions none = o;
    none.group = "none";
    const auto flat = plan_ingest(walked, none, {"/abs"});
    ASSERT_EQ(flat.units.size(), walked.size());
    EXPECT_EQ(flat.units[3].files[0].record_path, "in/run/sub/x.cif");
    EXPECT_EQ(flat.units[5].files[0].record_path, "in/run/vasprun.xml");
    EXPECT_NE(flat.digest, plan.digest);
    // By directory: every directory's files together.
    IngestOptions dirs = o;
    dirs.group = "dir";
    const auto by_dir = plan_ingest(walked, dirs, {"/abs"});
    ASSERT_EQ(by_dir.units.size(), 3U);
    EXPECT_EQ(by_dir.units[0].files.size(), 2U);  // in/a.cif, in/z.cif
    EXPECT_EQ(by_dir.units[1].files.size(), 3U);  // the run
    EXPECT_EQ(by_dir.units[2].files.size(), 2U);  // in/run/sub/
}

}  // namespace
}  // namespace kiln::ingest
