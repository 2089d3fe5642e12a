#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/hash.hpp"
#include "kiln/core/text.hpp"
#include "kiln/extract/archive_reader.hpp"
#include "kiln/extract/extractor.hpp"
#include "kiln/extract/format.hpp"
#include "kiln/extract/grouping.hpp"
#include "kiln/extract/magic_probe.hpp"
#include "kiln/index/segment.hpp"
#include "kiln/ingest/ingest.hpp"
#include "kiln/store/shard.hpp"

namespace kiln::ingest {
namespace {

// Builds a unit's index segment on a thread of its own, from the records' metadata as the
// committing thread finishes them: it adds the records published so far, waits for more,
// and sorts the segment's terms once all are in, while the shard itself is written. write()
// puts the segment on disk once the shard is committed (the segment names the shard's
// checksum). Destroyed without write() (an error on the committing thread), it stops the
// thread first.
class SegmentThread {
public:
    SegmentThread(index::IndexPolicy policy, const store::RecordRow* records, std::size_t total)
        : builder_(std::move(policy)), thread_([this, records, total] { run(records, total); }) {}
    SegmentThread(const SegmentThread&) = delete;
    SegmentThread& operator=(const SegmentThread&) = delete;
    ~SegmentThread() {
        if (!thread_.joinable()) return;
        publish(kStop);
        thread_.join();
    }

    /// Records [0, ready) are final.
    void publish(std::size_t ready) {
        ready_.store(ready, std::memory_order_release);
        ready_.notify_one();
    }

    void write(const std::string& path, std::uint64_t shard_id, std::uint64_t records,
               const Hash128& shard_checksum, bool durable) {
        thread_.join();
        if (error_) std::rethrow_exception(error_);
        builder_.write(path, shard_id, records, shard_checksum, durable);
    }

private:
    static constexpr std::size_t kStop = std::numeric_limits<std::size_t>::max();

    void run(const store::RecordRow* records, std::size_t total) {
        try {
            std::size_t done = 0;
            while (done < total) {
                const std::size_t ready = ready_.load(std::memory_order_acquire);
                if (ready == kStop) return;
                if (ready == done) {
                    ready_.wait(done, std::memory_order_acquire);
                    continue;
                }
                for (; done < ready; ++done) {
                    builder_.add_json(static_cast<std::uint32_t>(done),
                                      records[done].metadata_json);
                }
            }
            builder_.finish();
        } catch (...) {
            error_ = std::current_exception();
        }
    }

    index::SegmentBuilder builder_;
    std::atomic<std::size_t> ready_{0};
    std::exception_ptr error_;
    std::thread thread_;  // last: it starts once the members it uses exist
};

// Files up to this size are read whole by the worker threads; larger ones are streamed in
// blocks by the writing thread, so memory stays bounded by threads x this.
constexpr std::uint64_t kWholeFileBytes = std::uint64_t{8} << 20;
constexpr std::size_t kBlockBytes = std::size_t{4} << 20;
// Records handed to the index builder thread at a time.
constexpr std::size_t kPublishEvery = 256;
constexpr std::size_t kMaxErrorSamples = 5;
// Larger files are packed but not given to an extractor (whole-file parsers need them in
// memory).
constexpr std::uint64_t kMaxExtractBytes = std::uint64_t{256} << 20;

std::string base_name(std::string_view path) {
    const auto slash = path.find_last_of('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// What a worker thread prepares for one input file before the writer takes it.
struct Prepared {
    bool whole = false;  // `bytes` holds the complete content
    std::string bytes;
    Hash128 checksum;
    extract::MagicResult magic;
    std::uint64_t size = 0;
    std::uint64_t stream_offset = 0;  // where a streamed file's bytes start in /blob
    std::string error;
    std::string format;
    std::vector<nlohmann::json> extracted;  // the extractor's records (whole files only)
};

// Format detection and metadata extraction: per file, so it runs on the worker threads.
void identify(const InputFile& f, Prepared& p, const IngestOptions& options) {
    p.format = extract::detect_format(f.record_path, p.magic.mime_type,
                                      extract::content_head(f.record_path, p.bytes));
    if (options.extract && p.whole && p.error.empty() && p.format != "archive") {
        extract::ExtractLimits limits;
        limits.symprec = options.symprec;
        // A VASP 4 POSCAR names no species: the POTCAR or OUTCAR of its run does.
        p.extracted = extract::extract_file(f.record_path, p.format, p.bytes, limits, [&] {
            return extract::vasp_species_beside(f.source_path);
        });
    }
}

Prepared prepare(const InputFile& f, const IngestOptions& options) {
    const extract::MagicMode magic = options.magic;
    Prepared p;
    if (!f.error.empty()) {
        p.error = f.error;
        return p;
    }
    try {
        fs::Fd fd(::open(f.source_path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) throw IoError(errno_message("cannot open"));
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) throw IoError(errno_message("cannot stat"));
        const auto size = static_cast<std::uint64_t>(st.st_size);
        if (size > kWholeFileBytes) return p;  // streamed by the writer
        // Read one byte more than stat said, to notice a file that grew meanwhile.
        p.bytes.resize(static_cast<std::size_t>(size) + 1);
        const std::size_t n = fs::read_up_to(fd.get(), p.bytes.data(), p.bytes.size(), "file");
        p.bytes.resize(n);
        if (n > kWholeFileBytes) return Prepared{};  // grew past the limit: stream it
        p.whole = true;
        p.size = n;
        p.checksum = xxh3_128(p.bytes);
        p.magic = extract::MagicProbe::for_this_thread(magic).probe(p.bytes.data(), p.bytes.size());
        identify(f, p, options);
    } catch (const Error& e) {
        p.error = e.what();
        p.whole = false;
        p.bytes.clear();
    }
    return p;
}

// Builds the records of one shard, in order, on one thread.
class UnitWriter {
    // One record being built (a file, an archive member, or a file's further record).
    struct Row {
        std::string path;
        std::string format;
        extract::MagicResult magic;
        std::uint64_t size = 0;
        Hash128 checksum;
        bool packed = false;
        std::uint64_t offset = 0;
        std::string error;
        std::string archive;  // the archive's record path, for members
        std::string part_of;  // for a file's second and later records: the file's path
        nlohmann::json blocks = nlohmann::json::object();      // extracted MDF blocks
        nlohmann::json extra_kiln = nlohmann::json::object();  // extractor's kiln fields
    };

public:
    UnitWriter(const UnitSpec& unit, const store::Layout& layout, const IngestOptions& options)
        : unit_(unit),
          layout_(layout),
          options_(options),
          writer_(layout.shard(unit.shard_id), unit.shard_id, options.source) {}

    void emit(const InputFile& f, Prepared& p) {
        if (p.error.empty() && !p.whole) stream_file(f, p);
        Row row;
        row.path = f.record_path;
        row.size = p.size;
        row.checksum = p.checksum;
        row.magic = std::move(p.magic);
        row.error = p.error;
        if (row.error.empty() && p.whole) {
            if (options_.pack) row.offset = writer_.append_blob(p.bytes.data(), p.bytes.size());
            row.packed = options_.pack;
            if (row.size == 0) row.error = "empty file";
        } else if (row.error.empty()) {
            row.packed = options_.pack;
            row.offset = p.stream_offset;
        }
        if (p.format.empty()) {  // streamed or unreadable: identified here
            row.format = extract::detect_format(f.record_path, row.magic.mime_type,
                                                extract::content_head(f.record_path, p.bytes));
            if (options_.extract && row.error.empty() && row.size <= kMaxExtractBytes &&
                extract::ExtractorRegistry::builtin().find(row.format) != nullptr) {
                // A large file with an extractor (a vasprun.xml, say): read it whole once more.
                try {
                    extract::ExtractLimits limits;
                    limits.symprec = options_.symprec;
                    p.extracted = extract::extract_file(f.record_path, row.format,
                                                        fs::read_file(f.source_path), limits);
                } catch (const IoError& e) {
                    row.error = e.what();
                }
            }
        } else {
            row.format = p.format;
        }
        p.bytes = std::string();
        const std::size_t archive_row = rows_.size();
        add_with_extracted(std::move(row), p.extracted);
        if (options_.expand_archives && rows_[archive_row].error.empty() &&
            rows_[archive_row].format == "archive") {
            expand_archive(f, archive_row);
        }
    }

    // Adds the file's row with the first extracted record's blocks, and one more row
    // ("path#2", ...) for each further record of the file (a CIF's other data blocks).
    void add_with_extracted(Row row, std::vector<nlohmann::json>& extracted) {
        const Row parent = row;  // the fields later records share with the file's record
        for (std::size_t k = 0; k < extracted.size(); ++k) {
            Row part;
            if (k > 0) {
                part.path = parent.path + "#" + std::to_string(k + 1);
                part.format = parent.format;
                part.magic = parent.magic;
                part.checksum = parent.checksum;
                part.part_of = parent.path;
            }
            Row& target = k == 0 ? row : part;
            nlohmann::json& rec = extracted[k];
            nlohmann::json kiln = rec.contains("kiln") ? rec["kiln"] : nlohmann::json::object();
            rec.erase("kiln");
            kiln.erase("format");
            if (kiln.contains("error")) {
                if (target.error.empty()) target.error = kiln["error"].get<std::string>();
                kiln.erase("error");
            }
            target.extra_kiln = std::move(kiln);
            target.blocks = std::move(rec);
            rows_.push_back(std::move(target));
        }
        if (extracted.empty()) rows_.push_back(std::move(row));
    }

    nlohmann::json commit() {
        nlohmann::json formats = nlohmann::json::object();
        nlohmann::json mimes = nlohmann::json::object();
        nlohmann::json samples = nlohmann::json::array();
        std::uint64_t bytes = 0;
        std::uint64_t errors = 0;
        const auto groups = group_rows();
        const std::size_t records = rows_.size() + groups.size();
        std::vector<store::RecordRow> outs;
        outs.reserve(records);  // never reallocated: the segment thread reads them meanwhile
        outs.resize(rows_.size());
        std::optional<SegmentThread> segment;
        if (options_.index) segment.emplace(options_.index_policy, outs.data(), records);
        for (std::size_t i = 0; i < rows_.size(); ++i) {
            Row& r = rows_[i];
            store::RecordRow& out = outs[i];
            out.id = store::record_id(unit_.shard_id, i);
            out.path = r.path;
            out.format = r.format;
            out.mime_type = escape_invalid_utf8(r.magic.mime_type);
            out.size = r.size;
            out.checksum = r.checksum;
            out.packed = r.packed;
            out.offset = out.packed ? r.offset : 0;
            out.error = escape_invalid_utf8(r.error);
            out.metadata_json = metadata(r, out);
            bytes += r.size;
            formats[r.format] = formats.value(r.format, 0) + 1;
            if (!out.mime_type.empty()) {
                mimes[out.mime_type] = mimes.value(out.mime_type, 0) + 1;
            }
            if (!out.error.empty()) {
                ++errors;
                if (samples.size() < kMaxErrorSamples) {
                    samples.push_back({{"path", out.path}, {"error", out.error}});
                }
            }
            if (segment && (i + 1) % kPublishEvery == 0) segment->publish(i + 1);
        }
        for (const auto& g : groups) {
            outs.push_back(group_record(g, outs));
            formats[g.kind] = formats.value(g.kind, 0) + 1;
        }
        if (segment) segment->publish(outs.size());
        for (const auto& out : outs) writer_.add_record(out);
        const std::uint64_t packed_bytes = writer_.blob_size();
        const Hash128 checksum = writer_.commit(options_.fsync);
        if (segment) {
            fs::make_dirs(layout_.index_dir());
            segment->write(layout_.segment(unit_.shard_id), unit_.shard_id, outs.size(), checksum,
                           options_.fsync);
        }
        return {{"shard", unit_.shard_id}, {"file", store::Layout::shard_relative(unit_.shard_id)},
                {"records", outs.size()},  {"files", unit_.files.size()},
                {"bytes", bytes},          {"packed_bytes", packed_bytes},
                {"errors", errors},        {"checksum", checksum.hex()},
                {"formats", formats},      {"mime_types", mimes},
                {"error_samples", samples}};
    }

private:
    // The unit's groups (IngestOptions::group) over its files' rows (not a file's further
    // records, not archives themselves; an archive's members group among themselves). Each
    // member's record names its group in kiln.group. Members index rows_.
    std::vector<extract::FileGroup> group_rows() {
        if (options_.group == "none") return {};
        std::vector<std::string> paths;
        std::vector<std::size_t> row_of;
        for (std::size_t i = 0; i < rows_.size(); ++i) {
            if (!rows_[i].part_of.empty() || rows_[i].format == "archive") continue;
            paths.push_back(rows_[i].path);
            row_of.push_back(i);
        }
        auto groups = extract::group_files(paths, options_.group == "dir");
        for (auto& g : groups) {
            for (auto& m : g.members) {
                m = row_of[m];
                rows_[m].extra_kiln["group"] = g.path;
            }
        }
        return groups;
    }

    // The group's own record: its members' records merged (extract::merge_records). It has
    // no bytes of its own; its checksum is the xxh3 of its members' checksums (hex, in order).
    store::RecordRow group_record(const extract::FileGroup& g,
                                  const std::vector<store::RecordRow>& outs) const {
        std::vector<nlohmann::json> records;
        Hasher128 sums;
        for (const std::size_t m : g.members) {
            records.push_back(nlohmann::json::parse(outs[m].metadata_json));
            const std::string hex = outs[m].checksum.hex();
            sums.update(hex.data(), hex.size());
        }
        store::RecordRow out;
        out.id = store::record_id(unit_.shard_id, outs.size());
        out.path = g.path;
        out.format = g.kind;
        out.checksum = sums.digest();
        nlohmann::json merged = extract::merge_records(records, g);
        merged["kiln"]["id"] = out.id;
        merged["kiln"]["packed"] = false;
        merged["mdf"] = records.front()["mdf"];
        out.metadata_json = merged.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        return out;
    }

    // The MDF-style record as JSON text. Written directly (not through nlohmann::json):
    // with many small files this is a hot path. Keys are in sorted order, as nlohmann
    // would write them, so the text is the same either way.
    std::string metadata(const Row& r, const store::RecordRow& out) const {
        std::string j;
        j.reserve(512);
        j += "{\"files\":[{\"checksum\":{\"xxh3_128\":\"" + r.checksum.hex() + "\"}";
        if (!r.magic.description.empty()) {
            j += ",\"data_type\":";
            append_json_string(j, escape_invalid_utf8(r.magic.description));
        }
        j += ",\"filename\":";
        append_json_string(j, base_name(r.path));
        j += ",\"length\":" + std::to_string(r.size);
        if (!out.mime_type.empty()) {
            j += ",\"mime_type\":";
            append_json_string(j, out.mime_type);
        }
        j += "}],\"kiln\":{";
        if (!r.archive.empty()) {
            j += "\"archive\":";
            append_json_string(j, r.archive);
            j += ",";
        }
        if (!out.error.empty()) {
            j += "\"error\":";
            append_json_string(j, out.error);
            j += ",";
        }
        for (const auto& [key, value] : r.extra_kiln.items()) {
            append_json_string(j, key);
            j += ":" + value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + ",";
        }
        if (!r.part_of.empty()) {
            j += "\"part_of\":";
            append_json_string(j, r.part_of);
            j += ",";
        }
        j += "\"format\":";
        append_json_string(j, r.format);
        j += ",\"id\":" + std::to_string(out.id);
        j += std::string(",\"packed\":") + (out.packed ? "true" : "false") + ",\"path\":";
        append_json_string(j, r.path);
        j += "},\"mdf\":{\"resource_type\":\"record\",\"source_name\":";
        append_json_string(j, options_.source);
        j += "}";
        for (const auto& [key, value] : r.blocks.items()) {
            j += ",";
            append_json_string(j, key);
            j += ":" + value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
        j += "}";
        return j;
    }

    // Large file: read, hash and pack block by block on this thread.
    void stream_file(const InputFile& f, Prepared& p) {
        const std::uint64_t start = writer_.blob_size();
        try {
            fs::Fd fd(::open(f.source_path.c_str(), O_RDONLY | O_CLOEXEC));
            if (fd.get() < 0) throw IoError(errno_message("cannot open"));
            Hasher128 hasher;
            std::string block(kBlockBytes, '\0');
            std::uint64_t total = 0;
            for (;;) {
                const std::size_t n = fs::read_up_to(fd.get(), block.data(), block.size(), "file");
                if (n == 0) break;
                if (total == 0) {
                    p.magic =
                        extract::MagicProbe::for_this_thread(options_.magic).probe(block.data(), n);
                    p.bytes.assign(block.data(), std::min<std::size_t>(n, 4096));
                }
                hasher.update(block.data(), n);
                if (options_.pack) writer_.append_blob(block.data(), n);
                total += n;
                if (n < block.size()) break;
            }
            p.size = total;
            p.checksum = hasher.digest();
            p.stream_offset = start;
        } catch (const Error& e) {
            writer_.truncate_blob(start);
            p.error = e.what();
        }
    }

    void expand_archive(const InputFile& f, std::size_t archive_row) {
        const std::string archive_path = rows_[archive_row].path;
        const double ratio_cap =
            options_.archive_max_ratio *
            static_cast<double>(std::max<std::uint64_t>(rows_[archive_row].size, 1));
        const std::uint64_t limit = std::min<std::uint64_t>(
            options_.archive_max_bytes,
            std::max<std::uint64_t>(static_cast<std::uint64_t>(ratio_cap), 1 << 20));
        std::uint64_t expanded = 0;
        std::uint64_t members = 0;
        std::string archive_error;
        try {
            extract::ArchiveReader reader(f.source_path);
            extract::ArchiveMember m;
            std::string block(kBlockBytes, '\0');
            while (archive_error.empty() && reader.next(m)) {
                if (m.kind == extract::MemberKind::kDirectory) continue;
                if (++members > options_.archive_max_members) {
                    archive_error = "more than " + std::to_string(options_.archive_max_members) +
                                    " members; the rest were not expanded (--archive-max-members)";
                    break;
                }
                Row row;
                row.archive = archive_path;
                row.path = extract::member_record_path(archive_path, escape_invalid_utf8(m.name));
                row.error = extract::member_problem(m);
                if (row.error.empty() && !is_valid_utf8(m.name)) {
                    row.error = "member name is not valid UTF-8 (stored with \\xNN escapes)";
                }
                if (!row.error.empty()) {
                    row.size = m.size > 0 ? static_cast<std::uint64_t>(m.size) : 0;
                    row.format = extract::detect_format(row.path, "", "");
                    rows_.push_back(std::move(row));
                    continue;
                }
                const std::uint64_t start = writer_.blob_size();
                Hasher128 hasher;
                std::string head;
                try {
                    for (;;) {
                        const std::size_t n = reader.read(block.data(), block.size());
                        if (n == 0) break;
                        expanded += n;
                        if (expanded > limit) {
                            throw DataError("expansion passed " + std::to_string(limit) +
                                            " bytes (--archive-max-ratio " + format_ratio() +
                                            ", --archive-max-bytes); " +
                                            "possible archive bomb, expansion stopped");
                        }
                        if (head.size() < extract::MagicProbe::kHeadBytes) {
                            head.append(block.data(),
                                        std::min(n, extract::MagicProbe::kHeadBytes - head.size()));
                        }
                        hasher.update(block.data(), n);
                        if (options_.pack) writer_.append_blob(block.data(), n);
                        row.size += n;
                    }
                } catch (const DataError& e) {
                    writer_.truncate_blob(start);
                    row.error = e.what();
                    archive_error = e.what();
                }
                row.checksum = hasher.digest();
                row.offset = start;
                row.packed = options_.pack && row.error.empty();
                row.magic = extract::MagicProbe::for_this_thread(options_.magic)
                                .probe(head.data(), head.size());
                row.format = extract::detect_format(row.path, row.magic.mime_type,
                                                    extract::content_head(row.path, head));
                if (row.error.empty() && row.size == 0) row.error = "empty file";
                std::vector<nlohmann::json> extracted;
                if (options_.extract && row.error.empty() && options_.pack &&
                    row.size <= kWholeFileBytes) {
                    const std::string bytes = writer_.read_blob(start, row.size);
                    extract::ExtractLimits limits;
                    limits.symprec = options_.symprec;
                    extracted = extract::extract_file(row.path, row.format, bytes, limits);
                }
                add_with_extracted(std::move(row), extracted);
            }
        } catch (const DataError& e) {
            archive_error = e.what();
        }
        if (!archive_error.empty()) rows_[archive_row].error = archive_error;
    }

    [[nodiscard]] std::string format_ratio() const {
        return std::to_string(static_cast<long long>(options_.archive_max_ratio));
    }

    const UnitSpec& unit_;
    const store::Layout& layout_;
    const IngestOptions& options_;
    store::ShardWriter writer_;
    std::vector<Row> rows_;
};

}  // namespace

nlohmann::json ingest_unit(const UnitSpec& unit, const store::Layout& layout,
                           const IngestOptions& options) {
    UnitWriter writer(unit, layout, options);
    const auto n = static_cast<std::int64_t>(unit.files.size());
    std::exception_ptr first_error;
    // Worker threads read and identify files in parallel; the ordered section appends them
    // to the shard in plan order, so the shard is the same for any thread count.
#pragma omp parallel for ordered schedule(dynamic, 1) num_threads(std::max(1, options.threads))
    for (std::int64_t i = 0; i < n; ++i) {
        const InputFile& f = unit.files[static_cast<std::size_t>(i)];
        Prepared p = prepare(f, options);
#pragma omp ordered
        {
            if (!first_error) {
                try {
                    writer.emit(f, p);
                } catch (...) {
                    first_error = std::current_exception();
                }
            }
        }
    }
    // An I/O error names the shard being written (a full disk says where it is full).
    try {
        if (first_error) std::rethrow_exception(first_error);
        return writer.commit();
    } catch (const IoError& e) {
        throw IoError(layout.shard(unit.shard_id) + ": " + e.what());
    }
}

}  // namespace kiln::ingest
