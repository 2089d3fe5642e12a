#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>

#include <iterator>

#include "kiln/core/error.hpp"
#include "kiln/extract/archive_reader.hpp"
#include "test_util.hpp"

namespace kiln::extract {
namespace {

struct Entry {
    std::string name;
    std::string data;
    int type = AE_IFREG;
    std::string link;
};

// Writes a tar.gz (or zip) with libarchive's writer.
void write_archive(const std::string& path, const std::vector<Entry>& entries, bool zip = false) {
    archive* a = archive_write_new();
    if (zip) {
        archive_write_set_format_zip(a);
    } else {
        archive_write_set_format_pax_restricted(a);
        archive_write_add_filter_gzip(a);
    }
    ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
    for (const auto& e : entries) {
        archive_entry* en = archive_entry_new();
        archive_entry_set_pathname(en, e.name.c_str());
        archive_entry_set_filetype(en, static_cast<unsigned>(e.type));
        archive_entry_set_perm(en, 0644);
        archive_entry_set_size(en, static_cast<la_int64_t>(e.data.size()));
        if (e.type == AE_IFLNK) archive_entry_set_symlink(en, e.link.c_str());
        archive_write_header(a, en);
        if (!e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
        archive_entry_free(en);
    }
    archive_write_close(a);
    archive_write_free(a);
}

std::vector<std::pair<ArchiveMember, std::string>> read_all(const std::string& path) {
    std::vector<std::pair<ArchiveMember, std::string>> out;
    ArchiveReader r(path);
    ArchiveMember m;
    while (r.next(m)) {
        std::string data;
        char buf[7];  // small buffer: exercises repeated reads
        for (std::size_t n; (n = r.read(buf, sizeof buf)) > 0;) data.append(buf, n);
        out.emplace_back(m, data);
    }
    return out;
}

TEST(Archive, ReadsTarGzAndZipMembers) {
    test::TempDir dir;
    const std::vector<Entry> entries{{"./run1/POSCAR", "Fe2O3 poscar", AE_IFREG, ""},
                                     {"run1/sub", "", AE_IFDIR, ""},
                                     {"run1/INCAR", "ENCUT = 520", AE_IFREG, ""}};
    for (const bool zip : {false, true}) {
        const std::string path = dir / (zip ? "a.zip" : "a.tar.gz");
        write_archive(path, entries, zip);
        const auto all = read_all(path);
        ASSERT_EQ(all.size(), 3U);
        EXPECT_EQ(all[0].first.name, "./run1/POSCAR");
        EXPECT_EQ(all[0].second, "Fe2O3 poscar");
        EXPECT_EQ(all[1].first.kind, MemberKind::kDirectory);
        EXPECT_EQ(all[2].second, "ENCUT = 520");
    }
}

TEST(Archive, UnsafeMembersAreNamed) {
    EXPECT_EQ(member_problem({"ok/file", MemberKind::kFile, 1, ""}), "");
    EXPECT_NE(member_problem({"../etc/passwd", MemberKind::kFile, 1, ""}).find(".."),
              std::string::npos);
    EXPECT_NE(member_problem({"a/../../b", MemberKind::kFile, 1, ""}), "");
    EXPECT_EQ(member_problem({"a/..b/c", MemberKind::kFile, 1, ""}), "");  // not a .. component
    EXPECT_NE(member_problem({"/etc/shadow", MemberKind::kFile, 1, ""}).find("absolute"),
              std::string::npos);
    EXPECT_NE(member_problem({"l", MemberKind::kSymlink, 0, "/etc"}).find("symbolic link"),
              std::string::npos);
    EXPECT_NE(member_problem({"h", MemberKind::kHardlink, 0, "x"}), "");
    EXPECT_NE(member_problem({"", MemberKind::kFile, 0, ""}), "");
}

TEST(Archive, MemberRecordPaths) {
    EXPECT_EQ(member_record_path("data/runs.tar.gz", "./Fe/POSCAR"), "data/runs.tar.gz!/Fe/POSCAR");
    EXPECT_EQ(member_record_path("x.zip", "a.txt"), "x.zip!/a.txt");
}

TEST(Archive, TruncatedArchiveIsADataError) {
    test::TempDir dir;
    write_archive(dir / "t.tar.gz",
                  {{"big", std::string(200000, 'z'), AE_IFREG, ""}, {"second", "x", AE_IFREG, ""}});
    const std::string whole = [&] {
        std::ifstream in(dir / "t.tar.gz", std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    test::write_text(dir / "cut.tar.gz", whole.substr(0, whole.size() / 2));
    EXPECT_THROW((void)read_all(dir / "cut.tar.gz"), DataError);
    test::write_text(dir / "garbage.tar.gz", "this is not an archive at all");
    EXPECT_THROW((void)read_all(dir / "garbage.tar.gz"), DataError);
}

}  // namespace
}  // namespace kiln::extract
