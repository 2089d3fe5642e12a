// Shard files: one HDF5 file per work unit, written by exactly one rank, never modified after
// commit. Layout (every path readable with h5py):
//
//   /                   attrs kiln_schema_version, kind="shard", shard_id, source
//   /records/id         uint64[n]   shard_id << 32 | row
//   /records/path       str[n]      path relative to its input root; archive members as
//                                   "archive.tar.gz!/member/path"
//   /records/format     str[n]      detected format name ("cif", "poscar", "unknown", ...)
//   /records/mime_type  str[n]      libmagic MIME type
//   /records/size       uint64[n]   bytes of the original file
//   /records/checksum   str[n]      xxh3-128 of the original bytes, 32 hex digits
//   /records/packed     uint8[n]    1 when the bytes are in /blob
//   /records/offset     uint64[n]   offset of the bytes in /blob (0 when not packed)
//   /records/error      str[n]      per-record error, "" when none
//   /records/metadata   str[n]      the full MDF-style record as JSON
//   /blob               uint8[m]    packed bytes, chunked; each record's slice is checked
//                                   against its xxh3-128 when read
//
// The record columns carry the Fletcher32 filter, so a flipped byte fails the read; the
// catalog holds the xxh3-128 of every whole shard file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/core/hash.hpp"

namespace kiln::store {

/// One row of a shard's record table.
struct RecordRow {
    std::uint64_t id = 0;
    std::string path;
    std::string format;
    std::string mime_type;
    std::uint64_t size = 0;
    Hash128 checksum;
    bool packed = false;
    std::uint64_t offset = 0;
    std::string error;
    std::string metadata_json;
};

/// Record id of row `row` in shard `shard_id`.
[[nodiscard]] constexpr std::uint64_t record_id(std::uint64_t shard_id, std::uint64_t row) {
    return (shard_id << 32) | row;
}

/// Writes one shard with the commit protocol: everything goes to `PATH.tmp`; commit() closes,
/// fsyncs, renames to PATH and fsyncs the directory. Destroying an uncommitted writer removes
/// the temporary file. Single-threaded.
class ShardWriter {
public:
    ShardWriter(std::string final_path, std::uint64_t shard_id, std::string source);
    ~ShardWriter();
    ShardWriter(const ShardWriter&) = delete;
    ShardWriter& operator=(const ShardWriter&) = delete;

    /// Appends bytes to /blob; returns their offset.
    std::uint64_t append_blob(const void* data, std::size_t size);
    /// Drops /blob bytes from `offset` on (undo of a partly packed record).
    void truncate_blob(std::uint64_t offset);
    [[nodiscard]] std::uint64_t blob_size() const noexcept;
    /// Bytes [offset, offset + size) appended so far (read back from the file or buffer).
    [[nodiscard]] std::string read_blob(std::uint64_t offset, std::uint64_t size);
    /// Adds the next record; its id must be record_id(shard_id, row count so far).
    void add_record(RecordRow row);
    [[nodiscard]] std::size_t record_count() const noexcept;
    /// Writes the tables and commits (see above). Returns the xxh3-128 of the final file.
    /// Fault points: shard.before_close, shard.before_rename, shard.after_rename.
    Hash128 commit(bool durable = true);

private:
    void write_records_and_close(bool durable);  // the part of commit() that needs HDF5
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Reads a committed shard. Opening checks `kind` and `kiln_schema_version`.
class ShardReader {
public:
    explicit ShardReader(const std::string& path);
    ~ShardReader();
    ShardReader(ShardReader&&) noexcept;
    ShardReader& operator=(ShardReader&&) noexcept;

    [[nodiscard]] std::uint64_t shard_id() const;
    [[nodiscard]] std::string source() const;
    [[nodiscard]] std::int64_t schema_version() const;
    /// Every record in row order.
    [[nodiscard]] std::vector<RecordRow> records() const;
    /// The records at `rows`, in the order given (only those rows are read).
    [[nodiscard]] std::vector<RecordRow> records_at(const std::vector<std::uint64_t>& rows) const;
    /// The /records/metadata JSON of `rows`, in the order given.
    [[nodiscard]] std::vector<std::string> metadata_at(
        const std::vector<std::uint64_t>& rows) const;
    [[nodiscard]] std::uint64_t record_count() const;
    /// The packed bytes of a record (throws DataError when the record is not packed).
    [[nodiscard]] std::string read_bytes(const RecordRow& row) const;
    [[nodiscard]] std::uint64_t blob_size() const;

private:
    [[nodiscard]] std::vector<RecordRow> read_records(const std::vector<std::uint64_t>* rows) const;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::store
