// HDF5 wrapped once: RAII handles and one checked wrapper per C call. A failing call throws
// kiln::IoError whose message carries HDF5's own error stack. Internal to src/store/.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::store::h5 {

/// Turns off HDF5's automatic error printing (kiln reports the stack in exceptions).
void silence_errors();
/// Debian's HDF5 is not built thread-safe: every use from a thread that may run beside
/// others holds this (recursive, so layered code may take it again). The same lock as
/// kiln::hdf5_library_mutex(), which the HDF5 extractor holds.
std::recursive_mutex& library_mutex();
/// "1.10.8".
std::string library_version();
/// Whether the linked HDF5 was built with parallel (MPI-IO) support.
bool library_is_parallel();

/// An owned HDF5 identifier, closed with the matching H5?close on destruction.
class Handle {
public:
    using Closer = herr_t (*)(hid_t);
    Handle() = default;
    Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
    Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { reset(); }

    [[nodiscard]] hid_t id() const noexcept { return id_; }
    [[nodiscard]] bool valid() const noexcept { return id_ >= 0; }
    void reset() noexcept;
    /// Closes now and reports failure (a flush error on a file shows up here).
    void close(const std::string& what);

private:
    hid_t id_ = -1;
    Closer closer_ = nullptr;
};

/// Throws IoError("<what>: <HDF5 error stack>") when `id` < 0; else returns it.
hid_t check_id(hid_t id, const std::string& what);
/// Throws IoError when `rc` < 0.
void check(herr_t rc, const std::string& what);

/// HDF5 places a file's metadata (object headers, with their attributes) in blocks of
/// `meta_block_bytes`; its default is 2 KiB, and a header that outgrows its block goes to the
/// end of the file, after the data written so far. Files of paged columns use this size: the
/// headers and page checksums of the whole file stay together at its start, so a search that
/// opens a column reads nothing near the column's data but the data.
inline constexpr std::size_t kHeadersTogether = 256 * 1024;

/// Creates (truncates) a file for writing; no object timestamps, so equal content gives
/// equal bytes. `meta_block_bytes`: see kHeadersTogether (0: HDF5's default).
Handle create_file(const std::string& path, std::size_t meta_block_bytes = 0);
Handle open_file(const std::string& path);  // read-only
Handle create_group(hid_t loc, const std::string& name);
Handle open_group(hid_t loc, const std::string& name);
Handle open_dataset(hid_t loc, const std::string& name);
bool exists(hid_t loc, const std::string& name);

/// How a numeric column is stored; every read below checks either.
/// - `chunked`: chunks of up to 16 384 elements, each with HDF5's Fletcher-32. For files read
///   whole or in large pieces (shards, catalog).
/// - `paged`: one piece (compact, inside the dataset's object header, up to 16 KiB; else
///   contiguous), with a checksum of every page (the low 32 bits of its xxh3-64) in the
///   attribute `xxh3_pages` and the page size in `xxh3_page_bytes`. A read of a few elements costs
///   one read of the disk where a chunked column costs its chunk B-tree node and a whole chunk. For
///   files read a few elements at a time (the search index).
enum class Layout { chunked, paged };

/// The page of a paged column of `column_bytes` bytes: 16 KiB, doubled while the column
/// would have more than 12 288 pages (48 KiB of checksums in the object header).
std::uint64_t page_bytes_of_column(std::uint64_t column_bytes);

/// 1-D datasets written whole.
void write_u64(hid_t loc, const std::string& name, const std::vector<std::uint64_t>& values,
               Layout layout = Layout::chunked);
void write_u8(hid_t loc, const std::string& name, const std::vector<std::uint8_t>& values,
              Layout layout = Layout::chunked);
void write_u32(hid_t loc, const std::string& name, const std::vector<std::uint32_t>& values,
               Layout layout = Layout::chunked);
void write_f64(hid_t loc, const std::string& name, const std::vector<double>& values,
               Layout layout = Layout::chunked);
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values);
/// A scalar variable-length string dataset (JSON documents).
void write_string(hid_t loc, const std::string& name, std::string_view value);
std::vector<std::uint64_t> read_u64(hid_t loc, const std::string& name);
std::vector<std::uint8_t> read_u8(hid_t loc, const std::string& name);
std::vector<std::uint32_t> read_u32(hid_t loc, const std::string& name);
std::vector<double> read_f64(hid_t loc, const std::string& name);
std::vector<std::string> read_strings(hid_t loc, const std::string& name);
/// Elements [begin, end) of a 1-D dataset.
std::vector<std::uint64_t> read_u64(hid_t loc, const std::string& name, std::uint64_t begin,
                                    std::uint64_t end);
std::vector<std::uint32_t> read_u32(hid_t loc, const std::string& name, std::uint64_t begin,
                                    std::uint64_t end);
std::vector<double> read_f64(hid_t loc, const std::string& name, std::uint64_t begin,
                             std::uint64_t end);
/// The elements at `rows` (any order, no duplicates needed), in the order of `rows`.
std::vector<std::uint64_t> read_u64_at(hid_t loc, const std::string& name,
                                       const std::vector<std::uint64_t>& rows);
std::vector<std::uint8_t> read_u8_at(hid_t loc, const std::string& name,
                                     const std::vector<std::uint64_t>& rows);
std::vector<std::string> read_strings_at(hid_t loc, const std::string& name,
                                         const std::vector<std::uint64_t>& rows);
std::string read_string(hid_t loc, const std::string& name);
/// Number of elements of a 1-D dataset.
std::uint64_t extent(hid_t loc, const std::string& name);

void set_attr(hid_t loc, const std::string& name, std::int64_t value);
void set_attr(hid_t loc, const std::string& name, std::string_view value);
std::int64_t get_attr_int(hid_t loc, const std::string& name);
std::string get_attr_string(hid_t loc, const std::string& name);
bool has_attr(hid_t loc, const std::string& name);

/// An extensible 1-D uint8 dataset filled by appending, in chunks of `chunk_bytes` (no
/// filter: callers checksum what they store). Buffers up to one chunk in memory; whole chunks
/// are written without a copy.
class ByteAppender {
public:
    ByteAppender(hid_t loc, const std::string& name, std::size_t chunk_bytes);
    /// Appends and returns the offset of the first appended byte.
    std::uint64_t append(const void* data, std::size_t size);
    /// Drops everything from `offset` on (used to undo a partly appended record).
    void truncate(std::uint64_t offset);
    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
    /// Reads back bytes [offset, offset + size) of what was appended.
    [[nodiscard]] std::string read(std::uint64_t offset, std::uint64_t size) const;
    /// Writes the buffered tail and sets the final extent.
    void finish();

private:
    void flush_buffer();
    void write_at(const std::uint8_t* data, std::size_t size);
    Handle dataset_;
    std::string name_;
    std::size_t chunk_bytes_;
    std::uint64_t size_ = 0;            // logical size
    std::uint64_t written_ = 0;         // bytes written to the dataset
    std::uint64_t extent_ = 0;          // current dataset extent
    std::vector<std::uint8_t> buffer_;  // bytes [written_, size_)
};

/// Writes a kiln file by the commit protocol: PATH.tmp gets kiln_schema_version and `kind`,
/// `fill` writes the rest, then flush, close, (fsync) and rename to PATH (fsync of the
/// directory). Takes the library lock.
void write_kiln_file(const std::string& path, std::string_view kind, bool durable,
                     const std::function<void(hid_t root)>& fill);
/// The same with the metadata in blocks of `meta_block_bytes` (see kHeadersTogether).
void write_kiln_file(const std::string& path, std::string_view kind, bool durable,
                     std::size_t meta_block_bytes, const std::function<void(hid_t root)>& fill);
/// Opens a kiln file read-only; DataError naming it when its kind is not `kind` or its
/// kiln_schema_version is not one this build reads. The caller holds the library lock.
Handle open_kiln_file(const std::string& path, std::string_view kind, std::string_view what);

/// Reads `size` bytes at `offset` of a 1-D uint8 dataset (chunked or paged).
std::string read_bytes(hid_t dataset, std::uint64_t offset, std::uint64_t size);

}  // namespace kiln::store::h5
