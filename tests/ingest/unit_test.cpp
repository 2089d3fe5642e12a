#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include "kiln/index/segment.hpp"
#include "kiln/ingest/ingest.hpp"
#include "kiln/store/shard.hpp"
#include "test_util.hpp"

namespace kiln::ingest {
namespace {

void write_tar_gz(
    const std::string& path,
    const std::vector<std::tuple<std::string, std::string, int, std::string>>& entries) {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
    archive_write_open_filename(a, path.c_str());
    for (const auto& [name, data, type, link] : entries) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, name.c_str());
        archive_entry_set_filetype(e, static_cast<unsigned>(type));
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
        if (!link.empty()) archive_entry_set_symlink(e, link.c_str());
        archive_write_header(a, e);
        if (!data.empty()) archive_write_data(a, data.data(), data.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

struct Fixture {
    test::TempDir dir;
    std::string root = dir / "in";
    std::string big = std::string(9 << 20, 'B');  // streamed (> 8 MiB)

    Fixture() {
        test::write_text(root + "/a/POSCAR", "Fe O\n1.0\n");
        test::write_text(root + "/a/big.bin", big);
        test::write_text(root + "/empty.txt", "");
        write_tar_gz(root + "/runs.tar.gz", {{"./Fe/POSCAR", "Fe\n", AE_IFREG, ""},
                                             {"../evil", "x", AE_IFREG, ""},
                                             {"/etc/passwd", "x", AE_IFREG, ""},
                                             {"link", "", AE_IFLNK, "/etc/shadow"},
                                             {"zeros", std::string(5 << 20, '\0'), AE_IFREG, ""},
                                             {"after-bomb", "never read", AE_IFREG, ""}});
    }

    std::vector<store::RecordRow> ingest(int threads, Hash128* file_sum) {
        IngestOptions o;
        o.threads = threads;
        o.fsync = false;
        o.archive_max_ratio = 2;  // the 5 MiB of zeros compress ~1000x: a bomb
        const std::string out = dir / ("out" + std::to_string(threads));
        std::filesystem::create_directories(out + "/shards");
        const store::Layout layout(out);
        const auto plan = plan_ingest(walk_inputs({root}, {}), o, {root});
        EXPECT_EQ(plan.units.size(), 1U);
        const auto result = ingest_unit(plan.units[0], layout, o);
        *file_sum = Hash128::from_hex(result["checksum"].get<std::string>());
        EXPECT_EQ(xxh3_128_file(layout.shard(0)), *file_sum);
        const store::ShardReader reader(layout.shard(0));
        auto rows = reader.records();
        for (const auto& r : rows) {
            if (r.packed) {
                EXPECT_EQ(xxh3_128(reader.read_bytes(r)), r.checksum) << r.path;
            }
        }
        EXPECT_EQ(result["records"], rows.size());
        return rows;
    }
};

TEST(IngestUnit, RecordsFilesMembersAndProblems) {
    Fixture fx;
    Hash128 sum;
    const auto rows = fx.ingest(1, &sum);
    std::map<std::string, store::RecordRow> m;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].id, store::record_id(0, i));
        m[rows[i].path] = rows[i];
    }
    EXPECT_EQ(m.at("in/a/POSCAR").format, "poscar");
    EXPECT_EQ(m.at("in/a/POSCAR").mime_type, "text/plain");
    EXPECT_EQ(m.at("in/a/POSCAR").checksum, xxh3_128("Fe O\n1.0\n"));
    EXPECT_EQ(m.at("in/a/big.bin").size, fx.big.size());
    EXPECT_EQ(m.at("in/a/big.bin").checksum, xxh3_128(fx.big));
    EXPECT_EQ(m.at("in/empty.txt").error, "empty file");
    EXPECT_EQ(m.at("in/runs.tar.gz").format, "archive");
    EXPECT_NE(m.at("in/runs.tar.gz").error.find("archive bomb"), std::string::npos);
    EXPECT_EQ(m.at("in/runs.tar.gz!/Fe/POSCAR").format, "poscar");
    EXPECT_TRUE(m.at("in/runs.tar.gz!/Fe/POSCAR").packed);
    EXPECT_NE(m.at("in/runs.tar.gz!/../evil").error.find(".."), std::string::npos);
    EXPECT_FALSE(m.at("in/runs.tar.gz!/../evil").packed);
    EXPECT_NE(m.at("in/runs.tar.gz!//etc/passwd").error.find("absolute"), std::string::npos);
    EXPECT_NE(m.at("in/runs.tar.gz!/link").error.find("symbolic link"), std::string::npos);
    EXPECT_NE(m.at("in/runs.tar.gz!/zeros").error.find("archive bomb"), std::string::npos);
    EXPECT_FALSE(m.at("in/runs.tar.gz!/zeros").packed);
    EXPECT_EQ(m.count("in/runs.tar.gz!/after-bomb"), 0U);
    const auto meta = nlohmann::json::parse(m.at("in/a/POSCAR").metadata_json);
    EXPECT_EQ(meta["files"][0]["filename"], "POSCAR");
    EXPECT_EQ(meta["files"][0]["data_type"], "ASCII text");
    EXPECT_EQ(meta["kiln"]["path"], "in/a/POSCAR");
    EXPECT_EQ(meta["mdf"]["source_name"], "kiln");
}

TEST(IngestUnit, ShardBytesDoNotDependOnThreadCount) {
    Fixture fx;
    Hash128 one;
    Hash128 three;
    (void)fx.ingest(1, &one);
    (void)fx.ingest(3, &three);
    EXPECT_EQ(one, three);
}

// The segment a unit builds on a thread of its own while it writes the shard (records handed
// over in steps, a group record last) is byte for byte the one built from the committed shard.
// One extraction thread: scripts/test.sh runs this under ThreadSanitizer, which cannot see
// libgomp's synchronisation.
TEST(IngestUnit, TheSegmentBuiltBesideTheShardEqualsOneBuiltFromIt) {
    Fixture fx;
    std::string csv = "formula,energy_per_atom,label\n";
    for (int i = 0; i < 1000; ++i) {
        csv += "Fe" + std::to_string(i % 7 + 1) + "O3," + std::to_string(-0.01 * i) + ",x" +
               std::to_string(i % 3) + "\n";
    }
    test::write_text(fx.root + "/table.csv", csv);
    test::write_text(fx.root + "/a/INCAR", "ENCUT = 520\n");
    Hash128 sum;
    const auto rows = fx.ingest(1, &sum);
    ASSERT_GT(rows.size(), 1000U);
    EXPECT_TRUE(std::any_of(rows.begin(), rows.end(), [](const store::RecordRow& r) {
        return r.path == "in/a/";
    })) << "the VASP files of in/a make a group record";
    const store::Layout layout(fx.dir / "out1");
    const std::string rebuilt = fx.dir / "rebuilt.h5";
    index::build_segment(layout.shard(0), rebuilt, IngestOptions{}.index_policy, sum, false);
    EXPECT_EQ(xxh3_128_file(layout.segment(0)), xxh3_128_file(rebuilt));
}

// `kiln ingest --concurrent-units`: a rank writes several shards at once, on threads of its
// own. Each shard (and its segment) is the one written when the units run one after another.
// One extraction thread per unit, for ThreadSanitizer (see above).
TEST(IngestUnit, UnitsWrittenAtOnceEqualUnitsWrittenOneAtATime) {
    Fixture fx;
    for (int i = 0; i < 12; ++i) {
        test::write_text(fx.root + "/c/" + std::to_string(i) + ".xyz",
                         "2\nframe " + std::to_string(i) + "\nFe 0 0 0\nO 0 0 1.6\n");
    }
    IngestOptions o;
    o.threads = 1;
    o.fsync = false;
    o.shard_files = 4;
    const auto plan = plan_ingest(walk_inputs({fx.root}, {}), o, {fx.root});
    ASSERT_GE(plan.units.size(), 4U);
    auto layout_at = [&](const std::string& name) {
        std::filesystem::create_directories(fx.dir / name + "/shards");
        return store::Layout(fx.dir / name);
    };
    const store::Layout one_by_one = layout_at("one-by-one");
    const store::Layout at_once = layout_at("at-once");
    for (const auto& unit : plan.units) (void)ingest_unit(unit, one_by_one, o);
    std::vector<nlohmann::json> results(plan.units.size());
    {
        std::vector<std::jthread> threads;
        for (std::size_t u = 0; u < plan.units.size(); ++u) {
            threads.emplace_back([&, u] { results[u] = ingest_unit(plan.units[u], at_once, o); });
        }
    }
    for (std::size_t u = 0; u < plan.units.size(); ++u) {
        const std::uint64_t id = plan.units[u].shard_id;
        const Hash128 shard = xxh3_128_file(one_by_one.shard(id));
        EXPECT_EQ(xxh3_128_file(at_once.shard(id)), shard) << "shard " << id;
        EXPECT_EQ(results[u]["checksum"], shard.hex()) << "shard " << id;
        EXPECT_EQ(xxh3_128_file(at_once.segment(id)), xxh3_128_file(one_by_one.segment(id)))
            << "segment " << id;
    }
}

}  // namespace
}  // namespace kiln::ingest
