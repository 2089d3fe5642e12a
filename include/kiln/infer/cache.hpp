// The rank-level result cache: model output rows by a 128-bit key of (model sha256,
// featurizer, featurized row bytes). O(1) lookup and insert (a hash map of slot numbers),
// CLOCK eviction within a byte budget, hit/miss/eviction counters. One thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "kiln/core/hash.hpp"

namespace kiln::store {
struct CacheContents;
}

namespace kiln::infer {

struct CacheKeyHash {
    std::size_t operator()(const Hash128& k) const noexcept {
        return static_cast<std::size_t>(k.low ^ (k.high * 0x9E3779B97F4A7C15ULL));
    }
};

/// Keys of rows for one model: xxh3-128 over a per-model prefix and the row's bytes.
class CacheKeyMaker {
public:
    CacheKeyMaker(const std::string& model_sha256, const std::string& featurizer);
    [[nodiscard]] Hash128 key(std::span<const float> row) const;

private:
    Hash128 prefix_;
};

class ResultCache {
public:
    /// Room for as many rows of `columns` outputs as fit in `max_bytes` (keys, values and
    /// the map's overhead counted); at least one. Memory grows with the entries stored, up
    /// to that budget: an empty cache of 1 GiB costs nothing to create.
    ResultCache(std::size_t max_bytes, std::size_t columns);

    /// Copies the cached row of `key` to `out` (columns values) and returns true, or false.
    bool lookup(const Hash128& key, std::span<float> out);
    /// Stores `value` under `key`, evicting by CLOCK when full. An existing key is updated.
    void insert(const Hash128& key, std::span<const float> value);

    struct Counters {
        std::uint64_t hits = 0, misses = 0, evictions = 0, inserts = 0;
    };
    [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
    [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    [[nodiscard]] std::size_t columns() const noexcept { return columns_; }

    /// Appends every entry to `out` (keys and values; out.columns must equal columns()).
    void export_to(store::CacheContents& out) const;
    /// Inserts the entries of `in` (up to capacity; counters unchanged).
    void import_from(const store::CacheContents& in);

private:
    std::size_t columns_;
    std::size_t capacity_;  // slots; keys_ grows to it, then CLOCK reuses slots
    std::vector<Hash128> keys_;
    std::vector<float> values_;
    std::vector<std::uint8_t> referenced_;
    std::unordered_map<Hash128, std::uint32_t, CacheKeyHash> index_;
    std::size_t hand_ = 0;
    Counters counters_;
};

}  // namespace kiln::infer
