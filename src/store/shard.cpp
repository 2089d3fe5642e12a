#include "kiln/store/shard.hpp"

#include <unistd.h>

#include <utility>

#include "kiln/core/error.hpp"
#include "kiln/core/fault.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/store/layout.hpp"
#include "store/h5.hpp"

namespace kiln::store {
namespace {

constexpr std::size_t kBlobChunkBytes = std::size_t{256} << 10;

}  // namespace

struct ShardWriter::Impl {
    std::string final_path;
    std::string tmp_path;
    std::uint64_t shard_id = 0;
    h5::Handle file;
    std::unique_ptr<h5::ByteAppender> blob;
    std::vector<RecordRow> rows;
    bool committed = false;
};

ShardWriter::ShardWriter(std::string final_path, std::uint64_t shard_id, std::string source)
    : impl_(std::make_unique<Impl>()) {
    const std::lock_guard lock(h5::library_mutex());
    h5::silence_errors();
    impl_->final_path = std::move(final_path);
    impl_->tmp_path = impl_->final_path + ".tmp";
    impl_->shard_id = shard_id;
    impl_->file = h5::create_file(impl_->tmp_path);
    const hid_t f = impl_->file.id();
    h5::set_attr(f, "kiln_schema_version", kSchemaVersion);
    h5::set_attr(f, "kind", std::string_view("shard"));
    h5::set_attr(f, "shard_id", static_cast<std::int64_t>(shard_id));
    h5::set_attr(f, "source", std::string_view(source));
    impl_->blob = std::make_unique<h5::ByteAppender>(f, "blob", kBlobChunkBytes);
}

ShardWriter::~ShardWriter() {
    const std::lock_guard lock(h5::library_mutex());
    if (!impl_->committed) {
        impl_->blob.reset();
        impl_->file.reset();
        ::unlink(impl_->tmp_path.c_str());
    }
    impl_.reset();  // closes what is open, under the lock
}

std::uint64_t ShardWriter::append_blob(const void* data, std::size_t size) {
    const std::lock_guard lock(h5::library_mutex());
    return impl_->blob->append(data, size);
}
void ShardWriter::truncate_blob(std::uint64_t offset) {
    const std::lock_guard lock(h5::library_mutex());
    impl_->blob->truncate(offset);
}
std::uint64_t ShardWriter::blob_size() const noexcept { return impl_->blob->size(); }
std::string ShardWriter::read_blob(std::uint64_t offset, std::uint64_t size) {
    const std::lock_guard lock(h5::library_mutex());
    return impl_->blob->read(offset, size);
}
std::size_t ShardWriter::record_count() const noexcept { return impl_->rows.size(); }

void ShardWriter::add_record(RecordRow row) {
    KILN_ASSERT(row.id == record_id(impl_->shard_id, impl_->rows.size()),
                "record ids must be added in row order");
    impl_->rows.push_back(std::move(row));
}

void ShardWriter::write_records_and_close(bool durable) {
    const std::lock_guard lock(h5::library_mutex());
    impl_->blob->finish();
    const auto& rows = impl_->rows;
    {
        h5::Handle g = h5::create_group(impl_->file.id(), "records");
        const hid_t gid = g.id();
        std::vector<std::uint64_t> u64(rows.size());
        std::vector<std::string> str(rows.size());
        std::vector<std::uint8_t> u8(rows.size());
        auto put_u64 = [&](const char* name, auto field) {
            for (std::size_t i = 0; i < rows.size(); ++i) u64[i] = field(rows[i]);
            h5::write_u64(gid, name, u64);
        };
        auto put_str = [&](const char* name, auto field) {
            for (std::size_t i = 0; i < rows.size(); ++i) str[i] = field(rows[i]);
            h5::write_strings(gid, name, str);
        };
        put_u64("id", [](const RecordRow& r) { return r.id; });
        put_str("path", [](const RecordRow& r) { return r.path; });
        put_str("format", [](const RecordRow& r) { return r.format; });
        put_str("mime_type", [](const RecordRow& r) { return r.mime_type; });
        put_u64("size", [](const RecordRow& r) { return r.size; });
        put_str("checksum", [](const RecordRow& r) { return r.checksum.hex(); });
        for (std::size_t i = 0; i < rows.size(); ++i) u8[i] = rows[i].packed ? 1 : 0;
        h5::write_u8(gid, "packed", u8);
        put_u64("offset", [](const RecordRow& r) { return r.offset; });
        put_str("error", [](const RecordRow& r) { return r.error; });
        put_str("metadata", [](const RecordRow& r) { return r.metadata_json; });
    }
    fault_point("shard.before_close");
    impl_->blob.reset();
    if (durable) h5::check(H5Fflush(impl_->file.id(), H5F_SCOPE_GLOBAL), "H5Fflush");
    impl_->file.close("shard file '" + impl_->tmp_path + "'");
}

Hash128 ShardWriter::commit(bool durable) {
    KILN_ASSERT(!impl_->committed, "shard committed twice");
    write_records_and_close(durable);
    // The closed file is plain bytes: checksummed and renamed without the library lock, so
    // other threads' HDF5 work goes on meanwhile.
    if (durable) fs::fsync_path(impl_->tmp_path);
    const Hash128 digest = xxh3_128_file(impl_->tmp_path);
    fault_point("shard.before_rename");
    if (durable) {
        fs::durable_rename(impl_->tmp_path, impl_->final_path);
    } else if (::rename(impl_->tmp_path.c_str(), impl_->final_path.c_str()) != 0) {
        throw IoError(errno_message("cannot rename '" + impl_->tmp_path + "'"));
    }
    impl_->committed = true;
    fault_point("shard.after_rename");
    return digest;
}

struct ShardReader::Impl {
    std::string path;
    h5::Handle file;
    h5::Handle blob;
};

ShardReader::ShardReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
    const std::lock_guard lock(h5::library_mutex());
    h5::silence_errors();
    impl_->path = path;
    impl_->file = h5::open_file(path);
    const hid_t f = impl_->file.id();
    if (!h5::has_attr(f, "kind") || h5::get_attr_string(f, "kind") != "shard") {
        throw DataError("'" + path + "' is not a kiln shard (no attribute kind=\"shard\")");
    }
    const std::int64_t version = h5::get_attr_int(f, "kiln_schema_version");
    if (version < 1 || version > kSchemaVersion) {
        throw DataError("'" + path + "' has kiln_schema_version " + std::to_string(version) +
                        "; this kiln reads versions 1 to " + std::to_string(kSchemaVersion));
    }
    impl_->blob = h5::open_dataset(f, "blob");
}

ShardReader::~ShardReader() {
    const std::lock_guard lock(h5::library_mutex());
    impl_.reset();
}
ShardReader::ShardReader(ShardReader&&) noexcept = default;
ShardReader& ShardReader::operator=(ShardReader&& other) noexcept {
    const std::lock_guard lock(h5::library_mutex());
    impl_ = std::move(other.impl_);
    return *this;
}

std::uint64_t ShardReader::shard_id() const {
    const std::lock_guard lock(h5::library_mutex());
    return static_cast<std::uint64_t>(h5::get_attr_int(impl_->file.id(), "shard_id"));
}
std::string ShardReader::source() const {
    const std::lock_guard lock(h5::library_mutex());
    return h5::get_attr_string(impl_->file.id(), "source");
}
std::int64_t ShardReader::schema_version() const {
    const std::lock_guard lock(h5::library_mutex());
    return h5::get_attr_int(impl_->file.id(), "kiln_schema_version");
}
std::uint64_t ShardReader::blob_size() const {
    const std::lock_guard lock(h5::library_mutex());
    return h5::extent(impl_->file.id(), "blob");
}

std::vector<RecordRow> ShardReader::records() const { return read_records(nullptr); }

std::vector<RecordRow> ShardReader::records_at(const std::vector<std::uint64_t>& rows) const {
    return read_records(&rows);
}

std::vector<std::string> ShardReader::metadata_at(const std::vector<std::uint64_t>& rows) const {
    const std::lock_guard lock(h5::library_mutex());
    h5::Handle g = h5::open_group(impl_->file.id(), "records");
    return h5::read_strings_at(g.id(), "metadata", rows);
}

std::uint64_t ShardReader::record_count() const {
    const std::lock_guard lock(h5::library_mutex());
    h5::Handle g = h5::open_group(impl_->file.id(), "records");
    return h5::extent(g.id(), "id");
}

std::vector<RecordRow> ShardReader::read_records(const std::vector<std::uint64_t>* rows) const {
    const std::lock_guard lock(h5::library_mutex());
    h5::Handle g = h5::open_group(impl_->file.id(), "records");
    const hid_t gid = g.id();
    const auto u64 = [&](const char* name) {
        return rows != nullptr ? h5::read_u64_at(gid, name, *rows) : h5::read_u64(gid, name);
    };
    const auto str = [&](const char* name) {
        return rows != nullptr ? h5::read_strings_at(gid, name, *rows)
                               : h5::read_strings(gid, name);
    };
    const auto ids = u64("id");
    const auto paths = str("path");
    const auto formats = str("format");
    const auto mimes = str("mime_type");
    const auto sizes = u64("size");
    const auto sums = str("checksum");
    const auto packed =
        rows != nullptr ? h5::read_u8_at(gid, "packed", *rows) : h5::read_u8(gid, "packed");
    const auto offsets = u64("offset");
    const auto errors = str("error");
    const auto metadata = str("metadata");
    const std::size_t n = ids.size();
    for (const std::size_t m :
         {paths.size(), formats.size(), mimes.size(), sizes.size(), sums.size(), packed.size(),
          offsets.size(), errors.size(), metadata.size()}) {
        if (m != n) {
            throw DataError("'" + impl_->path + "': record columns have different lengths");
        }
    }
    std::vector<RecordRow> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        RecordRow& r = out[i];
        r.id = ids[i];
        r.path = paths[i];
        r.format = formats[i];
        r.mime_type = mimes[i];
        r.size = sizes[i];
        r.checksum = Hash128::from_hex(sums[i]);
        r.packed = packed[i] != 0;
        r.offset = offsets[i];
        r.error = errors[i];
        r.metadata_json = metadata[i];
    }
    return out;
}

std::string ShardReader::read_bytes(const RecordRow& row) const {
    const std::lock_guard lock(h5::library_mutex());
    if (!row.packed) {
        throw DataError("record '" + row.path + "' in '" + impl_->path +
                        "' was ingested with --no-pack; its bytes are not in the shard");
    }
    return h5::read_bytes(impl_->blob.id(), row.offset, row.size);
}

}  // namespace kiln::store
