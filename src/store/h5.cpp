#include "store/h5.hpp"

#include <unistd.h>
#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include "kiln/core/error.hpp"
#include "kiln/core/fault.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/hash.hpp"
#include "kiln/core/hdf5_lock.hpp"
#include "kiln/store/layout.hpp"

namespace kiln::store::h5 {
namespace {

herr_t collect_error(unsigned n, const H5E_error2_t* err, void* out) {
    auto* text = static_cast<std::string*>(out);
    if (n > 0) *text += "; ";
    *text += err->func_name != nullptr ? err->func_name : "?";
    *text += ": ";
    *text += err->desc != nullptr ? err->desc : "";
    return 0;
}

// HDF5's POSIX driver buries the system error ("No space left on device") in a long
// description; when there is one, it leads the message and the stack is cut to its frames.
std::string error_stack() {
    std::string text;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &text);
    H5Eclear2(H5E_DEFAULT);
    if (text.empty()) return "no HDF5 error stack";
    const std::string tag = "error message = '";
    const auto at = text.find(tag);
    if (at == std::string::npos) return text;
    const auto end = text.find('\'', at + tag.size());
    return text.substr(at + tag.size(), end - at - tag.size()) +
           " (HDF5: " + text.substr(0, text.find(':')) + ")";
}

// HDF5 closes what is still open when the process exits; after a failed close (a full disk)
// that clean-up crashes. kiln closes every file it commits itself, so it is turned off.
const bool g_no_hdf5_atexit = [] {
    H5dont_atexit();
    return true;
}();

// Columns are written once at their final length: one chunk when small, so a shard of a few
// records stays a few kilobytes.
hsize_t column_chunk(hsize_t n) { return std::clamp<hsize_t>(n, 1, 16384); }

// `fletcher`: a Fletcher32 checksum per chunk. `whole_chunks`: the writer writes every chunk
// whole and once, so there is no fill value to write first and no chunk cache (HDF5 then
// writes from the caller's memory instead of copying into its cache).
Handle chunked_create(hid_t loc, const std::string& name, hid_t type, hsize_t n, hsize_t chunk,
                      bool fletcher, bool whole_chunks = false) {
    const hsize_t dims[1] = {n};
    const hsize_t maxdims[1] = {H5S_UNLIMITED};
    Handle space(check_id(H5Screate_simple(1, dims, maxdims), "H5Screate_simple " + name),
                 H5Sclose);
    Handle dcpl(check_id(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"), H5Pclose);
    const hsize_t chunk_dims[1] = {chunk};
    check(H5Pset_chunk(dcpl.id(), 1, chunk_dims), "H5Pset_chunk " + name);
    if (fletcher) check(H5Pset_fletcher32(dcpl.id()), "H5Pset_fletcher32 " + name);
    check(H5Pset_obj_track_times(dcpl.id(), 0), "H5Pset_obj_track_times");
    Handle dapl(check_id(H5Pcreate(H5P_DATASET_ACCESS), "H5Pcreate"), H5Pclose);
    if (whole_chunks) {
        check(H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time " + name);
        check(H5Pset_chunk_cache(dapl.id(), 0, 0, 1.0), "H5Pset_chunk_cache " + name);
    }
    return {
        check_id(H5Dcreate2(loc, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(), dapl.id()),
                 "cannot create dataset '" + name + "'"),
        H5Dclose};
}

// Paged columns (see Layout): the page checksums are of the bytes as stored, little-endian.
static_assert(std::endian::native == std::endian::little, "paged columns assume little-endian");
constexpr std::uint64_t kCompactBytes = 16 * 1024;
// 48 KiB of 32-bit checksums, under the 64 KiB of an attribute in the object header.
constexpr std::uint64_t kMaxPages = 12288;

std::uint64_t page_count(std::uint64_t bytes, std::uint64_t page) {
    return std::max<std::uint64_t>(1, (bytes + page - 1) / page);
}

// The checksum of a page: the low 32 bits of its xxh3-64 (as strong as HDF5's Fletcher-32).
std::uint32_t page_checksum(const std::uint8_t* data, std::uint64_t size) {
    return static_cast<std::uint32_t>(xxh3_64(data, size));
}

void set_attr_u32s(hid_t loc, const std::string& name, const std::vector<std::uint32_t>& values) {
    const hsize_t dims[1] = {values.size()};
    Handle space(check_id(H5Screate_simple(1, dims, nullptr), "H5Screate_simple"), H5Sclose);
    Handle attr(check_id(H5Acreate2(loc, name.c_str(), H5T_NATIVE_UINT32, space.id(), H5P_DEFAULT,
                                    H5P_DEFAULT),
                         "cannot create attribute '" + name + "'"),
                H5Aclose);
    check(H5Awrite(attr.id(), H5T_NATIVE_UINT32, values.data()),
          "cannot write attribute '" + name + "'");
}

std::vector<std::uint32_t> get_attr_u32s(hid_t loc, const std::string& name) {
    Handle attr(
        check_id(H5Aopen(loc, name.c_str(), H5P_DEFAULT), "cannot open attribute '" + name + "'"),
        H5Aclose);
    Handle space(check_id(H5Aget_space(attr.id()), "H5Aget_space " + name), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.id());
    check(n < 0 ? -1 : 0, "extent of attribute '" + name + "'");
    std::vector<std::uint32_t> out(static_cast<std::size_t>(n));
    if (n > 0) {
        check(H5Aread(attr.id(), H5T_NATIVE_UINT32, out.data()),
              "cannot read attribute '" + name + "'");
    }
    return out;
}

Handle paged_create(hid_t loc, const std::string& name, hid_t type, hsize_t n,
                    std::uint64_t bytes) {
    const hsize_t dims[1] = {n};
    Handle space(check_id(H5Screate_simple(1, dims, nullptr), "H5Screate_simple " + name),
                 H5Sclose);
    Handle dcpl(check_id(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"), H5Pclose);
    const bool compact = n > 0 && bytes <= kCompactBytes;
    check(H5Pset_layout(dcpl.id(), compact ? H5D_COMPACT : H5D_CONTIGUOUS),
          "H5Pset_layout " + name);
    check(H5Pset_obj_track_times(dcpl.id(), 0), "H5Pset_obj_track_times");
    return {check_id(H5Dcreate2(loc, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(),
                                H5P_DEFAULT),
                     "cannot create dataset '" + name + "'"),
            H5Dclose};
}

template <typename T>
void write_numeric(hid_t loc, const std::string& name, hid_t type, const std::vector<T>& values,
                   Layout layout) {
    const auto n = static_cast<hsize_t>(values.size());
    const std::uint64_t bytes = n * sizeof(T);
    Handle ds = layout == Layout::paged ? paged_create(loc, name, type, n, bytes)
                                        : chunked_create(loc, name, type, n, column_chunk(n), true);
    if (layout == Layout::paged) {
        // The checksums go in the object header before the data is placed, so the header
        // stays beside the other headers: opening the column costs no read near its data.
        const std::uint64_t page = page_bytes_of_column(bytes);
        const auto* data = reinterpret_cast<const std::uint8_t*>(values.data());
        std::vector<std::uint32_t> sums;
        for (std::uint64_t at = 0; at < bytes || sums.empty(); at += page) {
            sums.push_back(page_checksum(data + at, std::min(page, bytes - at)));
        }
        set_attr(ds.id(), "xxh3_page_bytes", static_cast<std::int64_t>(page));
        set_attr_u32s(ds.id(), "xxh3_pages", sums);
    }
    if (n > 0) {
        check(H5Dwrite(ds.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
              "cannot write dataset '" + name + "'");
    }
    ds.close("dataset '" + name + "'");
}

// A name HDF5 gives for `obj`: H5Fget_name (its file's path) or H5Iget_name (its own path).
std::string name_of(hid_t obj, ssize_t (*get)(hid_t, char*, std::size_t)) {
    const ssize_t n = get(obj, nullptr, 0);
    if (n <= 0) return "?";
    std::string out(static_cast<std::size_t>(n) + 1, '\0');
    get(obj, out.data(), out.size());
    out.resize(static_cast<std::size_t>(n));
    return out;
}
std::string file_name(hid_t obj) { return name_of(obj, H5Fget_name); }
std::string object_name(hid_t obj) { return name_of(obj, H5Iget_name); }

bool is_paged(hid_t ds) { return H5Aexists(ds, "xxh3_pages") > 0; }

// Large reads go in pieces of kReadBytes. Measured from a cold cache at 10 M records, against
// 1 and 8 MiB pieces: a prefix query 25 against 37 and 29 ms, three terms AND 23 against 27
// and 30 ms (the kernel reads ahead while each piece is checked).
constexpr std::uint64_t kReadBytes = 128 * 1024;

// Bytes [begin, end) of paged column `ds` of `n` elements of `elem` bytes, into `out`: the
// pages they lie in are read and checked against their checksums. DataError naming the file
// and the column when one differs (the file was changed after it was written).
void read_pages(hid_t ds, const std::string& name, std::uint64_t n, std::size_t elem,
                std::uint64_t begin, std::uint64_t end, void* out) {
    const auto damaged = [&](const std::string& why) {
        return DataError("'" + file_name(ds) + "', column '" + name + "': " + why +
                         " (the file was changed after it was written)");
    };
    const std::uint64_t bytes = n * elem;
    const auto page_attr = get_attr_int(ds, "xxh3_page_bytes");
    const auto sums = get_attr_u32s(ds, "xxh3_pages");
    if (page_attr <= 0 || static_cast<std::uint64_t>(page_attr) % elem != 0) {
        throw damaged("page size " + std::to_string(page_attr) + " is not a positive multiple of " +
                      std::to_string(elem) + " bytes");
    }
    const auto page = static_cast<std::uint64_t>(page_attr);
    if (sums.size() != page_count(bytes, page)) {
        throw damaged(std::to_string(sums.size()) + " page checksums for " +
                      std::to_string(page_count(bytes, page)) + " pages");
    }
    Handle type(check_id(H5Dget_type(ds), "H5Dget_type " + name), H5Tclose);
    if (H5Tget_size(type.id()) != elem) {
        throw damaged("elements of " + std::to_string(H5Tget_size(type.id())) + " bytes, not " +
                      std::to_string(elem));
    }
    if (begin >= end) return;
    const std::uint64_t first = begin / page;
    const std::uint64_t last = (end + page - 1) / page;  // pages [first, last)
    auto* dst = static_cast<std::uint8_t*>(out);
    Handle file_space(check_id(H5Dget_space(ds), "H5Dget_space " + name), H5Sclose);
    const auto read_raw = [&](std::uint64_t at, std::uint64_t size, std::uint8_t* into) {
        const hsize_t start[1] = {at / elem};
        const hsize_t count[1] = {size / elem};
        check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr),
              "H5Sselect_hyperslab " + name);
        Handle mem_space(check_id(H5Screate_simple(1, count, nullptr), "H5Screate_simple"),
                         H5Sclose);
        check(H5Dread(ds, type.id(), mem_space.id(), file_space.id(), H5P_DEFAULT, into),
              "cannot read dataset '" + name + "'");
    };
    const auto check_page = [&](std::uint64_t p, const std::uint8_t* data) {
        const std::uint64_t size = std::min(page, bytes - p * page);
        if (page_checksum(data, size) != sums[p]) {
            throw damaged("page " + std::to_string(p) + " (bytes [" + std::to_string(p * page) +
                          ", " + std::to_string(p * page + size) +
                          ")) does not match its checksum");
        }
    };
    const auto page_end = [&](std::uint64_t p) { return std::min((p + 1) * page, bytes); };
    const std::uint64_t pages_per_read = std::max<std::uint64_t>(1, kReadBytes / page);
    // Pages wholly inside [begin, end) are read straight into `out`, kReadBytes at a time; the
    // (at most two) pages at its ends through a buffer of one page.
    std::vector<std::uint8_t> edge;
    for (std::uint64_t p = first; p < last;) {
        if (p * page < begin || page_end(p) > end) {
            edge.resize(static_cast<std::size_t>(page_end(p) - p * page));
            read_raw(p * page, edge.size(), edge.data());
            check_page(p, edge.data());
            const std::uint64_t lo = std::max(begin, p * page);
            const std::uint64_t hi = std::min(end, page_end(p));
            std::memcpy(dst + (lo - begin), edge.data() + (lo - p * page), hi - lo);
            ++p;
            continue;
        }
        std::uint64_t q = p + 1;
        while (q < last && q - p < pages_per_read && page_end(q) <= end) ++q;
        read_raw(p * page, page_end(q - 1) - p * page, dst + (p * page - begin));
        for (std::uint64_t k = p; k < q; ++k) check_page(k, dst + (k * page - begin));
        p = q;
    }
}

std::uint64_t extent_of(hid_t ds, const std::string& name) {
    Handle space(check_id(H5Dget_space(ds), "H5Dget_space " + name), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.id());
    check(n < 0 ? -1 : 0, "extent of '" + name + "'");
    return static_cast<std::uint64_t>(n);
}

template <typename T>
std::vector<T> read_numeric(hid_t loc, const std::string& name, hid_t type) {
    Handle ds = open_dataset(loc, name);
    const std::uint64_t n = extent_of(ds.id(), name);
    std::vector<T> out(static_cast<std::size_t>(n));
    if (is_paged(ds.id())) {
        read_pages(ds.id(), name, n, sizeof(T), 0, n * sizeof(T), out.data());
    } else if (n > 0) {
        check(H5Dread(ds.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
              "cannot read dataset '" + name + "'");
    }
    return out;
}

// The selection of a partial read: [begin, end) or the listed rows. Throws DataError when it
// reaches past the dataset's extent (an index that does not match its file).
struct Selection {
    Handle file_space;
    Handle mem_space;
    hsize_t count = 0;
};

void check_range(const std::string& name, std::uint64_t n, std::uint64_t begin, std::uint64_t end) {
    if (begin > end || end > n) {
        throw DataError("dataset '" + name + "' has " + std::to_string(n) +
                        " elements; elements [" + std::to_string(begin) + ", " +
                        std::to_string(end) + ") were asked for");
    }
}

Selection select_range(hid_t ds, const std::string& name, std::uint64_t begin, std::uint64_t end) {
    Selection s;
    s.file_space = Handle(check_id(H5Dget_space(ds), "H5Dget_space " + name), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(s.file_space.id());
    check(n < 0 ? -1 : 0, "extent of '" + name + "'");
    check_range(name, static_cast<std::uint64_t>(n), begin, end);
    s.count = end - begin;
    if (s.count == 0) return s;
    const hsize_t start[1] = {begin};
    const hsize_t count[1] = {s.count};
    check(H5Sselect_hyperslab(s.file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr),
          "H5Sselect_hyperslab " + name);
    s.mem_space =
        Handle(check_id(H5Screate_simple(1, count, nullptr), "H5Screate_simple"), H5Sclose);
    return s;
}

Selection select_rows(hid_t ds, const std::string& name, const std::vector<std::uint64_t>& rows) {
    Selection s;
    s.file_space = Handle(check_id(H5Dget_space(ds), "H5Dget_space " + name), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(s.file_space.id());
    for (const std::uint64_t r : rows) {
        if (n < 0 || r >= static_cast<std::uint64_t>(n)) {
            throw DataError("dataset '" + name + "' has " + std::to_string(n) +
                            " elements; element " + std::to_string(r) + " was asked for");
        }
    }
    s.count = rows.size();
    if (s.count == 0) return s;
    static_assert(sizeof(hsize_t) == sizeof(std::uint64_t));
    check(H5Sselect_elements(s.file_space.id(), H5S_SELECT_SET, rows.size(),
                             reinterpret_cast<const hsize_t*>(rows.data())),
          "H5Sselect_elements " + name);
    const hsize_t count[1] = {s.count};
    s.mem_space =
        Handle(check_id(H5Screate_simple(1, count, nullptr), "H5Screate_simple"), H5Sclose);
    return s;
}

template <typename T>
std::vector<T> read_selected(hid_t ds, const std::string& name, hid_t type, Selection s) {
    std::vector<T> out(static_cast<std::size_t>(s.count));
    if (s.count > 0) {
        check(H5Dread(ds, type, s.mem_space.id(), s.file_space.id(), H5P_DEFAULT, out.data()),
              "cannot read dataset '" + name + "'");
    }
    return out;
}

template <typename T>
std::vector<T> read_numeric_range(hid_t loc, const std::string& name, hid_t type,
                                  std::uint64_t begin, std::uint64_t end) {
    Handle ds = open_dataset(loc, name);
    if (!is_paged(ds.id())) {
        return read_selected<T>(ds.id(), name, type, select_range(ds.id(), name, begin, end));
    }
    const std::uint64_t n = extent_of(ds.id(), name);
    check_range(name, n, begin, end);
    std::vector<T> out(static_cast<std::size_t>(end - begin));
    read_pages(ds.id(), name, n, sizeof(T), begin * sizeof(T), end * sizeof(T), out.data());
    return out;
}

template <typename T>
std::vector<T> read_numeric_at(hid_t loc, const std::string& name, hid_t type,
                               const std::vector<std::uint64_t>& rows) {
    Handle ds = open_dataset(loc, name);
    if (!is_paged(ds.id()) || rows.empty()) {
        return read_selected<T>(ds.id(), name, type, select_rows(ds.id(), name, rows));
    }
    // The span of the rows, checked page by page, then picked.
    const auto [lo, hi] = std::minmax_element(rows.begin(), rows.end());
    const std::uint64_t n = extent_of(ds.id(), name);
    check_range(name, n, *lo, *hi + 1);
    std::vector<T> span(static_cast<std::size_t>(*hi + 1 - *lo));
    read_pages(ds.id(), name, n, sizeof(T), *lo * sizeof(T), (*hi + 1) * sizeof(T), span.data());
    std::vector<T> out;
    out.reserve(rows.size());
    for (const std::uint64_t r : rows) out.push_back(span[r - *lo]);
    return out;
}

Handle vlen_string_type() {
    Handle t(check_id(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
    check(H5Tset_size(t.id(), H5T_VARIABLE), "H5Tset_size");
    check(H5Tset_cset(t.id(), H5T_CSET_UTF8), "H5Tset_cset");
    return t;
}

// The transfer properties of a read of `n` variable-length strings: a type conversion buffer
// of about their size. HDF5's default is 1 MiB, allocated (a fresh mmap) and zeroed on every
// such read: with it, opening a dataset for a query (a dozen reads of a few strings from the
// catalog and index) took 3.5 ms instead of 2.
Handle string_transfer(hsize_t n) {
    Handle dxpl(check_id(H5Pcreate(H5P_DATASET_XFER), "H5Pcreate"), H5Pclose);
    const hsize_t bytes = std::clamp<hsize_t>(n * 2 * sizeof(hvl_t), 4096, hsize_t{1} << 20U);
    check(H5Pset_buffer(dxpl.id(), bytes, nullptr, nullptr), "H5Pset_buffer");
    return dxpl;
}

}  // namespace

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::uint64_t page_bytes_of_column(std::uint64_t column_bytes) {
    std::uint64_t page = 16 * 1024;
    while (page * kMaxPages < column_bytes) page *= 2;
    return page;
}

std::recursive_mutex& library_mutex() { return hdf5_library_mutex(); }

std::string library_version() {
    unsigned maj = 0;
    unsigned min = 0;
    unsigned rel = 0;
    H5get_libversion(&maj, &min, &rel);
    return std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel);
}

bool library_is_parallel() {
#ifdef H5_HAVE_PARALLEL
    return true;
#else
    return false;
#endif
}

Handle& Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        reset();
        id_ = other.id_;
        closer_ = other.closer_;
        other.id_ = -1;
    }
    return *this;
}

void Handle::reset() noexcept {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
    id_ = -1;
}

void Handle::close(const std::string& what) {
    if (id_ < 0) return;
    const herr_t rc = closer_(id_);
    id_ = -1;
    check(rc, "cannot close " + what);
}

hid_t check_id(hid_t id, const std::string& what) {
    if (id < 0) throw IoError(what + ": " + error_stack());
    return id;
}

void check(herr_t rc, const std::string& what) {
    if (rc < 0) throw IoError(what + ": " + error_stack());
}

Handle create_file(const std::string& path, std::size_t meta_block_bytes) {
    Handle fcpl(check_id(H5Pcreate(H5P_FILE_CREATE), "H5Pcreate"), H5Pclose);
    Handle fapl(check_id(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"), H5Pclose);
    if (meta_block_bytes > 0) {
        check(H5Pset_meta_block_size(fapl.id(), meta_block_bytes), "H5Pset_meta_block_size");
    }
    return {check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.id(), fapl.id()),
                     "cannot create HDF5 file '" + path + "'"),
            H5Fclose};
}

Handle open_file(const std::string& path) {
    return {check_id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                     "cannot open HDF5 file '" + path + "'"),
            H5Fclose};
}

Handle create_group(hid_t loc, const std::string& name) {
    Handle gcpl(check_id(H5Pcreate(H5P_GROUP_CREATE), "H5Pcreate"), H5Pclose);
    check(H5Pset_obj_track_times(gcpl.id(), 0), "H5Pset_obj_track_times");
    return {check_id(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, gcpl.id(), H5P_DEFAULT),
                     "cannot create group '" + name + "'"),
            H5Gclose};
}

Handle open_group(hid_t loc, const std::string& name) {
    return {check_id(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open group '" + name + "'"),
            H5Gclose};
}

Handle open_dataset(hid_t loc, const std::string& name) {
    return {
        check_id(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset '" + name + "'"),
        H5Dclose};
}

bool exists(hid_t loc, const std::string& name) {
    const htri_t r = H5Lexists(loc, name.c_str(), H5P_DEFAULT);
    check(r < 0 ? -1 : 0, "H5Lexists " + name);
    return r > 0;
}

void write_u64(hid_t loc, const std::string& name, const std::vector<std::uint64_t>& values,
               Layout layout) {
    write_numeric(loc, name, H5T_NATIVE_UINT64, values, layout);
}
void write_u8(hid_t loc, const std::string& name, const std::vector<std::uint8_t>& values,
              Layout layout) {
    write_numeric(loc, name, H5T_NATIVE_UINT8, values, layout);
}
void write_u32(hid_t loc, const std::string& name, const std::vector<std::uint32_t>& values,
               Layout layout) {
    write_numeric(loc, name, H5T_NATIVE_UINT32, values, layout);
}
void write_f64(hid_t loc, const std::string& name, const std::vector<double>& values,
               Layout layout) {
    write_numeric(loc, name, H5T_NATIVE_DOUBLE, values, layout);
}
std::vector<std::uint64_t> read_u64(hid_t loc, const std::string& name) {
    return read_numeric<std::uint64_t>(loc, name, H5T_NATIVE_UINT64);
}
std::vector<std::uint8_t> read_u8(hid_t loc, const std::string& name) {
    return read_numeric<std::uint8_t>(loc, name, H5T_NATIVE_UINT8);
}
std::vector<std::uint32_t> read_u32(hid_t loc, const std::string& name) {
    return read_numeric<std::uint32_t>(loc, name, H5T_NATIVE_UINT32);
}
std::vector<double> read_f64(hid_t loc, const std::string& name) {
    return read_numeric<double>(loc, name, H5T_NATIVE_DOUBLE);
}
std::vector<std::uint64_t> read_u64(hid_t loc, const std::string& name, std::uint64_t begin,
                                    std::uint64_t end) {
    return read_numeric_range<std::uint64_t>(loc, name, H5T_NATIVE_UINT64, begin, end);
}
std::vector<std::uint32_t> read_u32(hid_t loc, const std::string& name, std::uint64_t begin,
                                    std::uint64_t end) {
    return read_numeric_range<std::uint32_t>(loc, name, H5T_NATIVE_UINT32, begin, end);
}
std::vector<double> read_f64(hid_t loc, const std::string& name, std::uint64_t begin,
                             std::uint64_t end) {
    return read_numeric_range<double>(loc, name, H5T_NATIVE_DOUBLE, begin, end);
}
std::vector<std::uint64_t> read_u64_at(hid_t loc, const std::string& name,
                                       const std::vector<std::uint64_t>& rows) {
    return read_numeric_at<std::uint64_t>(loc, name, H5T_NATIVE_UINT64, rows);
}
std::vector<std::uint8_t> read_u8_at(hid_t loc, const std::string& name,
                                     const std::vector<std::uint64_t>& rows) {
    return read_numeric_at<std::uint8_t>(loc, name, H5T_NATIVE_UINT8, rows);
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values) {
    Handle type = vlen_string_type();
    const auto n = static_cast<hsize_t>(values.size());
    Handle ds = chunked_create(loc, name, type.id(), n, column_chunk(n), false);
    if (n > 0) {
        std::vector<const char*> ptrs;
        ptrs.reserve(values.size());
        for (const auto& v : values) ptrs.push_back(v.c_str());
        check(H5Dwrite(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
              "cannot write dataset '" + name + "'");
    }
    ds.close("dataset '" + name + "'");
}

std::vector<std::string> read_strings(hid_t loc, const std::string& name) {
    Handle ds = open_dataset(loc, name);
    Handle space(check_id(H5Dget_space(ds.id()), "H5Dget_space " + name), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.id());
    check(n < 0 ? -1 : 0, "extent of '" + name + "'");
    std::vector<std::string> out;
    if (n == 0) return out;
    Handle type = vlen_string_type();
    std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
    const Handle dxpl = string_transfer(static_cast<hsize_t>(n));
    check(H5Dread(ds.id(), type.id(), H5S_ALL, H5S_ALL, dxpl.id(), ptrs.data()),
          "cannot read dataset '" + name + "'");
    out.reserve(ptrs.size());
    for (char* p : ptrs) out.emplace_back(p != nullptr ? p : "");
    H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, ptrs.data());
    return out;
}

std::vector<std::string> read_strings_at(hid_t loc, const std::string& name,
                                         const std::vector<std::uint64_t>& rows) {
    Handle ds = open_dataset(loc, name);
    Selection s = select_rows(ds.id(), name, rows);
    std::vector<std::string> out;
    if (s.count == 0) return out;
    Handle type = vlen_string_type();
    std::vector<char*> ptrs(static_cast<std::size_t>(s.count), nullptr);
    const Handle dxpl = string_transfer(s.count);
    check(H5Dread(ds.id(), type.id(), s.mem_space.id(), s.file_space.id(), dxpl.id(), ptrs.data()),
          "cannot read dataset '" + name + "'");
    out.reserve(ptrs.size());
    for (char* p : ptrs) out.emplace_back(p != nullptr ? p : "");
    H5Dvlen_reclaim(type.id(), s.mem_space.id(), H5P_DEFAULT, ptrs.data());
    return out;
}

void write_string(hid_t loc, const std::string& name, std::string_view value) {
    Handle type = vlen_string_type();
    Handle space(check_id(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
    Handle dcpl(check_id(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"), H5Pclose);
    check(H5Pset_obj_track_times(dcpl.id(), 0), "H5Pset_obj_track_times");
    Handle ds(check_id(H5Dcreate2(loc, name.c_str(), type.id(), space.id(), H5P_DEFAULT, dcpl.id(),
                                  H5P_DEFAULT),
                       "cannot create dataset '" + name + "'"),
              H5Dclose);
    const std::string copy(value);
    const char* ptr = copy.c_str();
    check(H5Dwrite(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &ptr),
          "cannot write dataset '" + name + "'");
    ds.close("dataset '" + name + "'");
}

std::string read_string(hid_t loc, const std::string& name) {
    Handle ds = open_dataset(loc, name);
    Handle type = vlen_string_type();
    Handle space(check_id(H5Dget_space(ds.id()), "H5Dget_space " + name), H5Sclose);
    char* ptr = nullptr;
    const Handle dxpl = string_transfer(1);
    check(H5Dread(ds.id(), type.id(), H5S_ALL, H5S_ALL, dxpl.id(), &ptr),
          "cannot read dataset '" + name + "'");
    std::string out = ptr != nullptr ? ptr : "";
    H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, &ptr);
    return out;
}

std::uint64_t extent(hid_t loc, const std::string& name) {
    Handle ds = open_dataset(loc, name);
    return extent_of(ds.id(), name);
}

void set_attr(hid_t loc, const std::string& name, std::int64_t value) {
    Handle space(check_id(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
    Handle attr(check_id(H5Acreate2(loc, name.c_str(), H5T_NATIVE_INT64, space.id(), H5P_DEFAULT,
                                    H5P_DEFAULT),
                         "cannot create attribute '" + name + "'"),
                H5Aclose);
    check(H5Awrite(attr.id(), H5T_NATIVE_INT64, &value), "cannot write attribute '" + name + "'");
}

void set_attr(hid_t loc, const std::string& name, std::string_view value) {
    Handle type = vlen_string_type();
    Handle space(check_id(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
    Handle attr(
        check_id(H5Acreate2(loc, name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create attribute '" + name + "'"),
        H5Aclose);
    const std::string copy(value);
    const char* ptr = copy.c_str();
    check(H5Awrite(attr.id(), type.id(), &ptr), "cannot write attribute '" + name + "'");
}

bool has_attr(hid_t loc, const std::string& name) {
    const htri_t r = H5Aexists(loc, name.c_str());
    check(r < 0 ? -1 : 0, "H5Aexists " + name);
    return r > 0;
}

std::int64_t get_attr_int(hid_t loc, const std::string& name) {
    Handle attr(
        check_id(H5Aopen(loc, name.c_str(), H5P_DEFAULT), "cannot open attribute '" + name + "'"),
        H5Aclose);
    std::int64_t value = 0;
    check(H5Aread(attr.id(), H5T_NATIVE_INT64, &value), "cannot read attribute '" + name + "'");
    return value;
}

std::string get_attr_string(hid_t loc, const std::string& name) {
    Handle attr(
        check_id(H5Aopen(loc, name.c_str(), H5P_DEFAULT), "cannot open attribute '" + name + "'"),
        H5Aclose);
    Handle type = vlen_string_type();
    char* ptr = nullptr;
    check(H5Aread(attr.id(), type.id(), &ptr), "cannot read attribute '" + name + "'");
    std::string out = ptr != nullptr ? ptr : "";
    H5free_memory(ptr);
    return out;
}

ByteAppender::ByteAppender(hid_t loc, const std::string& name, std::size_t chunk_bytes)
    : name_(name), chunk_bytes_(std::max<std::size_t>(chunk_bytes, 4096)) {
    // No Fletcher32 here: every record's bytes carry their own xxh3-128, checked on read.
    // Chunks are written whole and in order (a partial one only by finish() and after a
    // truncate()), so no fill value and no chunk cache.
    dataset_ = chunked_create(loc, name, H5T_NATIVE_UINT8, 0, chunk_bytes_, false, true);
    buffer_.reserve(chunk_bytes_);
}

std::uint64_t ByteAppender::append(const void* data, std::size_t size) {
    const std::uint64_t offset = size_;
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    while (size > 0) {
        if (buffer_.empty() && size >= chunk_bytes_) {
            // Whole chunks go straight from the caller's memory to the file.
            const std::size_t direct = size - size % chunk_bytes_;
            write_at(bytes, direct);
            bytes += direct;
            size -= direct;
            size_ += direct;
            continue;
        }
        // The rest fills the buffer up to the next chunk boundary.
        const std::size_t take = std::min(chunk_bytes_ - buffer_.size(), size);
        buffer_.insert(buffer_.end(), bytes, bytes + take);
        bytes += take;
        size -= take;
        size_ += take;
        if (buffer_.size() == chunk_bytes_) flush_buffer();
    }
    return offset;
}

void ByteAppender::truncate(std::uint64_t offset) {
    if (offset >= written_) {
        buffer_.resize(static_cast<std::size_t>(offset - written_));
    } else {
        // Already written bytes beyond `offset` are overwritten by later appends.
        buffer_.clear();
        written_ = offset;
    }
    size_ = offset;
}

void ByteAppender::flush_buffer() {
    if (buffer_.empty()) return;
    write_at(buffer_.data(), buffer_.size());
    buffer_.clear();
}

void ByteAppender::write_at(const std::uint8_t* data, std::size_t size) {
    const std::uint64_t end = written_ + size;
    if (end > extent_) {
        const hsize_t dims[1] = {end};
        check(H5Dset_extent(dataset_.id(), dims), "cannot extend dataset '" + name_ + "'");
        extent_ = end;
    }
    Handle file_space(check_id(H5Dget_space(dataset_.id()), "H5Dget_space"), H5Sclose);
    const hsize_t start[1] = {written_};
    const hsize_t count[1] = {size};
    check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr),
          "H5Sselect_hyperslab");
    Handle mem_space(check_id(H5Screate_simple(1, count, nullptr), "H5Screate_simple"), H5Sclose);
    check(H5Dwrite(dataset_.id(), H5T_NATIVE_UINT8, mem_space.id(), file_space.id(), H5P_DEFAULT,
                   data),
          "cannot write dataset '" + name_ + "'");
    written_ = end;
}

std::string ByteAppender::read(std::uint64_t offset, std::uint64_t size) const {
    KILN_ASSERT(offset + size <= size_, "read past the appended bytes");
    std::string out;
    out.reserve(size);
    if (offset < written_) {
        const std::uint64_t from_file = std::min(size, written_ - offset);
        out = read_bytes(dataset_.id(), offset, from_file);
    }
    if (offset + size > written_) {
        const std::uint64_t start = offset > written_ ? offset - written_ : 0;
        const std::uint64_t n = offset + size - std::max(offset, written_);
        out.append(reinterpret_cast<const char*>(buffer_.data()) + start, n);
    }
    return out;
}

void ByteAppender::finish() {
    flush_buffer();
    if (extent_ != size_) {
        const hsize_t dims[1] = {size_};
        check(H5Dset_extent(dataset_.id(), dims), "cannot resize dataset '" + name_ + "'");
        extent_ = size_;
    }
    dataset_.close("dataset '" + name_ + "'");
}

std::string read_bytes(hid_t dataset, std::uint64_t offset, std::uint64_t size) {
    std::string out(static_cast<std::size_t>(size), '\0');
    if (size == 0) return out;
    if (is_paged(dataset)) {
        const std::string name = object_name(dataset);
        const std::uint64_t n = extent_of(dataset, name);
        check_range(name, n, offset, offset + size);
        read_pages(dataset, name, n, 1, offset, offset + size, out.data());
        return out;
    }
    Handle file_space(check_id(H5Dget_space(dataset), "H5Dget_space"), H5Sclose);
    const hsize_t start[1] = {offset};
    const hsize_t count[1] = {size};
    check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr),
          "H5Sselect_hyperslab");
    Handle mem_space(check_id(H5Screate_simple(1, count, nullptr), "H5Screate_simple"), H5Sclose);
    check(H5Dread(dataset, H5T_NATIVE_UINT8, mem_space.id(), file_space.id(), H5P_DEFAULT,
                  out.data()),
          "cannot read bytes [" + std::to_string(offset) + ", " + std::to_string(offset + size) +
              ") of the packed data");
    return out;
}

namespace {

void write_and_close(const std::string& tmp, std::string_view kind, bool durable,
                     const std::function<void(hid_t root)>& fill, std::size_t meta_block_bytes) {
    const std::lock_guard lock(library_mutex());
    silence_errors();
    Handle file = create_file(tmp, meta_block_bytes);
    set_attr(file.id(), "kiln_schema_version", kSchemaVersion);
    set_attr(file.id(), "kind", kind);
    fill(file.id());
    if (durable) check(H5Fflush(file.id(), H5F_SCOPE_GLOBAL), "H5Fflush");
    fault_point(std::string(kind) + ".before_close");
    file.close(std::string(kind) + " '" + tmp + "'");
}

}  // namespace

void write_kiln_file(const std::string& path, std::string_view kind, bool durable,
                     const std::function<void(hid_t root)>& fill) {
    write_kiln_file(path, kind, durable, std::size_t{0}, fill);
}

void write_kiln_file(const std::string& path, std::string_view kind, bool durable,
                     std::size_t meta_block_bytes, const std::function<void(hid_t root)>& fill) {
    const std::string tmp = path + ".tmp";
    try {
        write_and_close(tmp, kind, durable, fill, meta_block_bytes);
    } catch (...) {
        ::unlink(tmp.c_str());  // a half-written file only takes space (a full disk)
        throw;
    }
    fault_point(std::string(kind) + ".before_rename");
    if (durable) {
        fs::fsync_path(tmp);
        fs::durable_rename(tmp, path);
    } else if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        throw IoError(errno_message("cannot rename '" + tmp + "'"));
    }
    fault_point(std::string(kind) + ".after_rename");
}

Handle open_kiln_file(const std::string& path, std::string_view kind, std::string_view what) {
    silence_errors();
    Handle file = open_file(path);
    const hid_t root = file.id();
    if (!has_attr(root, "kind") || get_attr_string(root, "kind") != kind) {
        throw DataError("'" + path + "' is not a kiln " + std::string(what));
    }
    const auto version = get_attr_int(root, "kiln_schema_version");
    if (version < 1 || version > kSchemaVersion) {
        throw DataError("'" + path + "' has kiln_schema_version " + std::to_string(version) +
                        "; this kiln reads 1.." + std::to_string(kSchemaVersion));
    }
    return file;
}

}  // namespace kiln::store::h5
