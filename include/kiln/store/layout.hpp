// Where things live inside a dataset directory (ARCHITECTURE.md, "Dataset on disk").
#pragma once

#include <cstdint>
#include <string>

namespace kiln::store {

/// Schema version written as `kiln_schema_version` on every file kiln creates. Readers accept
/// every version up to this one.
inline constexpr std::int64_t kSchemaVersion = 1;

/// Paths of one dataset directory. Pure string building; touches no file.
class Layout {
public:
    explicit Layout(std::string root);

    [[nodiscard]] const std::string& root() const noexcept { return root_; }
    [[nodiscard]] std::string catalog() const;      // ROOT/catalog.h5
    [[nodiscard]] std::string shards_dir() const;   // ROOT/shards
    [[nodiscard]] std::string journal_dir() const;  // ROOT/journal
    /// ROOT/shards/shard-000042.h5
    [[nodiscard]] std::string shard(std::uint64_t shard_id) const;
    [[nodiscard]] std::string index_dir() const;   // ROOT/index
    [[nodiscard]] std::string dictionary() const;  // ROOT/index/dictionary.h5
    /// ROOT/index/segment-000042.h5: the index segment of shard 42.
    [[nodiscard]] std::string segment(std::uint64_t shard_id) const;
    /// ROOT/index/merged.h5: every segment merged into one (`kiln index DATA --merge`).
    [[nodiscard]] std::string merged_segment() const;
    /// "shards/shard-000042.h5": the name the catalog stores (relative to ROOT).
    [[nodiscard]] static std::string shard_relative(std::uint64_t shard_id);

private:
    std::string root_;
};

}  // namespace kiln::store
