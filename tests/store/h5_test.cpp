// Paged columns (h5::Layout::paged): what is written reads back whole, in ranges across page
// edges, at rows and as bytes; they are compact or contiguous with a checksum per page; a
// changed byte fails the reads of its page, naming the file, the column and the page.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "kiln/core/error.hpp"
#include "store/h5.hpp"
#include "test_util.hpp"

namespace kiln::store {
namespace {

constexpr std::uint64_t kPage = 16 * 1024;  // the page of columns up to 64 MiB

std::vector<std::uint64_t> numbers(std::size_t n) {
    std::vector<std::uint64_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = i * 2654435761U ^ (i << 40U);
    return v;
}

std::vector<std::uint8_t> bytes_of(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((i * 131) >> 3U);
    return v;
}

template <class T>
std::vector<T> slice(const std::vector<T>& v, std::uint64_t lo, std::uint64_t hi) {
    return {v.begin() + static_cast<std::ptrdiff_t>(lo),
            v.begin() + static_cast<std::ptrdiff_t>(hi)};
}

void write_file(const std::string& path, const std::function<void(hid_t)>& fill) {
    h5::write_kiln_file(path, "test", false, h5::kHeadersTogether, fill);
}

H5D_layout_t layout_of(hid_t file, const std::string& name) {
    h5::Handle ds = h5::open_dataset(file, name);
    h5::Handle dcpl(H5Dget_create_plist(ds.id()), H5Pclose);
    return H5Pget_layout(dcpl.id());
}

std::uint64_t offset_of(hid_t file, const std::string& name) {
    h5::Handle ds = h5::open_dataset(file, name);
    return H5Dget_offset(ds.id());
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void flip_byte(const std::string& path, std::uint64_t offset) {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(c ^ 0x5a));
}

TEST(PagedColumn, ReadsBackWholeInRangesAtRowsAndAsBytes) {
    test::TempDir dir;
    const std::string path = dir / "c.h5";
    // 0 and 1 element, compact (up to 16 KiB), one byte over, and many pages.
    const std::vector<std::size_t> sizes = {0, 1, 1000, 2048, 2049, 300000};
    write_file(path, [&](hid_t root) {
        for (const auto n : sizes) {
            const auto v = numbers(n);
            h5::write_u64(root, "u64_" + std::to_string(n), v, h5::Layout::paged);
            h5::write_u32(root, "u32_" + std::to_string(n),
                          std::vector<std::uint32_t>(v.begin(), v.end()), h5::Layout::paged);
            h5::write_f64(root, "f64_" + std::to_string(n), std::vector<double>(v.begin(), v.end()),
                          h5::Layout::paged);
            h5::write_u8(root, "u8_" + std::to_string(n), bytes_of(n * 8), h5::Layout::paged);
        }
    });
    const std::lock_guard lock(h5::library_mutex());
    h5::Handle file = h5::open_file(path);
    for (const auto n : sizes) {
        SCOPED_TRACE("n = " + std::to_string(n));
        const auto v = numbers(n);
        const auto b = bytes_of(n * 8);
        const auto u64 = "u64_" + std::to_string(n);
        EXPECT_EQ(h5::read_u64(file.id(), u64), v);
        EXPECT_EQ(h5::read_u32(file.id(), "u32_" + std::to_string(n)),
                  std::vector<std::uint32_t>(v.begin(), v.end()));
        EXPECT_EQ(h5::read_f64(file.id(), "f64_" + std::to_string(n)),
                  std::vector<double>(v.begin(), v.end()));
        EXPECT_EQ(h5::read_u8(file.id(), "u8_" + std::to_string(n)), b);
        // Ranges: empty, the last element, and across every kind of page edge.
        const std::uint64_t per_page = kPage / 8;
        for (const auto& [lo, hi] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
                 {0, 0},
                 {n > 0 ? n - 1 : 0, n},
                 {per_page - 1, per_page + 1},
                 {3 * per_page - 2, 5 * per_page + 7},
                 {7, n / 2}}) {
            if (hi > n || lo > hi) continue;
            EXPECT_EQ(h5::read_u64(file.id(), u64, lo, hi), slice(v, lo, hi)) << lo << ".." << hi;
            const auto u32 = h5::read_u32(file.id(), "u32_" + std::to_string(n), lo, hi);
            EXPECT_EQ(u32, slice(std::vector<std::uint32_t>(v.begin(), v.end()), lo, hi));
            h5::Handle ds = h5::open_dataset(file.id(), "u8_" + std::to_string(n));
            EXPECT_EQ(h5::read_bytes(ds.id(), lo * 8, (hi - lo) * 8), [&] {
                const auto part = slice(b, lo * 8, hi * 8);
                return std::string(part.begin(), part.end());
            }());
        }
        if (n > 0) {
            const std::vector<std::uint64_t> rows = {n - 1, 0, n / 2};
            EXPECT_EQ(h5::read_u64_at(file.id(), u64, rows),
                      (std::vector<std::uint64_t>{v[n - 1], v[0], v[n / 2]}));
        }
        EXPECT_THROW((void)h5::read_u64(file.id(), u64, n, n + 1), DataError);
    }
}

TEST(PagedColumn, IsCompactUpTo16KiBElseContiguousWithAChecksumPerPage) {
    test::TempDir dir;
    const std::string path = dir / "c.h5";
    write_file(path, [&](hid_t root) {
        h5::write_u64(root, "small", numbers(2048), h5::Layout::paged);  // 16 KiB
        h5::write_u64(root, "large", numbers(2049), h5::Layout::paged);
        h5::write_u64(root, "many", numbers(300000), h5::Layout::paged);
        h5::write_u64(root, "chunked", numbers(10));
    });
    const std::lock_guard lock(h5::library_mutex());
    h5::Handle file = h5::open_file(path);
    EXPECT_EQ(layout_of(file.id(), "small"), H5D_COMPACT);
    EXPECT_EQ(layout_of(file.id(), "large"), H5D_CONTIGUOUS);
    EXPECT_EQ(layout_of(file.id(), "chunked"), H5D_CHUNKED);
    const auto pages = [&](const std::string& name) {
        h5::Handle ds = h5::open_dataset(file.id(), name);
        h5::Handle attr(H5Aopen(ds.id(), "xxh3_pages", H5P_DEFAULT), H5Aclose);
        h5::Handle space(H5Aget_space(attr.id()), H5Sclose);
        return std::pair{h5::get_attr_int(ds.id(), "xxh3_page_bytes"),
                         H5Sget_simple_extent_npoints(space.id())};
    };
    EXPECT_EQ(pages("small"), (std::pair<std::int64_t, hssize_t>{16384, 1}));
    EXPECT_EQ(pages("large"), (std::pair<std::int64_t, hssize_t>{16384, 2}));
    EXPECT_EQ(pages("many"), (std::pair<std::int64_t, hssize_t>{16384, 300000 * 8 / 16384 + 1}));
    // Over 12 288 pages of 16 KiB (192 MiB) the page doubles: the checksums stay in 48 KiB.
    EXPECT_EQ(h5::page_bytes_of_column(0), 16384U);
    EXPECT_EQ(h5::page_bytes_of_column(192U << 20U), 16384U);
    EXPECT_EQ(h5::page_bytes_of_column((192U << 20U) + 1), 32768U);
    EXPECT_EQ(h5::page_bytes_of_column(std::uint64_t{600} << 20U), 65536U);
    // Every header sits in the first metadata block, before the data.
    for (const char* name : {"large", "many"})
        EXPECT_GE(offset_of(file.id(), name), h5::kHeadersTogether) << name;
}

TEST(PagedColumn, AChangedByteFailsTheReadsOfItsPageNamingFileColumnAndPage) {
    test::TempDir dir;
    const std::string path = dir / "c.h5";
    const auto v = numbers(300000);
    const auto small = numbers(100);
    write_file(path, [&](hid_t root) {
        h5::write_u64(root, "many", v, h5::Layout::paged);
        h5::write_u64(root, "small", small, h5::Layout::paged);
    });
    std::uint64_t many_at = 0;
    {
        const std::lock_guard lock(h5::library_mutex());
        h5::Handle file = h5::open_file(path);
        many_at = offset_of(file.id(), "many");
    }
    flip_byte(path, many_at + 3 * kPage + 5);  // page 3
    // The compact column's bytes are in its object header: found by their content.
    const std::string raw = read_file(path);
    const auto small_at = raw.find(std::string(reinterpret_cast<const char*>(small.data()), 800));
    ASSERT_NE(small_at, std::string::npos);
    flip_byte(path, small_at + 17);

    const std::lock_guard lock(h5::library_mutex());
    h5::Handle file = h5::open_file(path);
    const std::uint64_t per_page = kPage / 8;
    // Other pages read as written.
    EXPECT_EQ(h5::read_u64(file.id(), "many", 0, 3 * per_page), slice(v, 0, 3 * per_page));
    EXPECT_EQ(h5::read_u64(file.id(), "many", 4 * per_page, 5 * per_page),
              slice(v, 4 * per_page, 5 * per_page));
    const auto expect_damaged = [&](const std::function<void()>& read, const std::string& column,
                                    const std::string& page) {
        try {
            read();
            ADD_FAILURE() << "no error for a changed byte in '" << column << "'";
        } catch (const DataError& e) {
            const std::string m = e.what();
            EXPECT_NE(m.find(path), std::string::npos) << m;
            EXPECT_NE(m.find("column '" + column + "'"), std::string::npos) << m;
            EXPECT_NE(m.find(page + " "), std::string::npos) << m;
        }
    };
    expect_damaged(
        [&] { (void)h5::read_u64(file.id(), "many", 3 * per_page + 9, 3 * per_page + 10); }, "many",
        "page 3");
    expect_damaged([&] { (void)h5::read_u64(file.id(), "many"); }, "many", "page 3");
    expect_damaged(
        [&] {
            (void)h5::read_u64_at(file.id(), "many", {1, 3 * per_page});
        },
        "many", "page 3");
    expect_damaged([&] { (void)h5::read_u64(file.id(), "small", 99, 100); }, "small", "page 0");
}

}  // namespace
}  // namespace kiln::store
