#include "kiln/infer/cache.hpp"

#include <algorithm>
#include <cstring>

#include "kiln/core/error.hpp"
#include "kiln/store/predictions.hpp"

namespace kiln::infer {

CacheKeyMaker::CacheKeyMaker(const std::string& model_sha256, const std::string& featurizer) {
    const std::string seed = model_sha256 + '\0' + featurizer;
    prefix_ = xxh3_128(seed);
}

Hash128 CacheKeyMaker::key(std::span<const float> row) const {
    thread_local Hasher128 hasher;
    hasher.reset();
    hasher.update(&prefix_, sizeof prefix_);
    hasher.update(row.data(), row.size_bytes());
    return hasher.digest();
}

namespace {
// Per entry: the key, the values, a flag byte, and ~48 bytes of hash-map node.
std::size_t entries_in(std::size_t max_bytes, std::size_t columns) {
    const std::size_t per_entry = sizeof(Hash128) + columns * sizeof(float) + 1 + 48;
    return std::max<std::size_t>(1, max_bytes / per_entry);
}
}  // namespace

ResultCache::ResultCache(std::size_t max_bytes, std::size_t columns)
    : columns_(columns), capacity_(entries_in(max_bytes, columns)) {}

bool ResultCache::lookup(const Hash128& key, std::span<float> out) {
    const auto it = index_.find(key);
    if (it == index_.end()) {
        ++counters_.misses;
        return false;
    }
    ++counters_.hits;
    referenced_[it->second] = 1;
    std::memcpy(out.data(), values_.data() + std::size_t{it->second} * columns_,
                columns_ * sizeof(float));
    return true;
}

void ResultCache::insert(const Hash128& key, std::span<const float> value) {
    if (value.size() != columns_)
        throw Error("result cache: row of " + std::to_string(value.size()) + " values, expected " +
                    std::to_string(columns_));
    std::uint32_t slot = 0;
    if (const auto it = index_.find(key); it != index_.end()) {
        slot = it->second;
    } else if (keys_.size() < capacity_) {  // room left: a new slot at the end
        slot = static_cast<std::uint32_t>(keys_.size());
        keys_.push_back(key);
        values_.resize(values_.size() + columns_);
        referenced_.push_back(0);
        index_.emplace(key, slot);
        ++counters_.inserts;
    } else {
        // Full. CLOCK: advance the hand past referenced slots (clearing their bit) to a victim.
        while (referenced_[hand_] != 0) {
            referenced_[hand_] = 0;
            hand_ = (hand_ + 1) % capacity_;
        }
        slot = static_cast<std::uint32_t>(hand_);
        hand_ = (hand_ + 1) % capacity_;
        index_.erase(keys_[slot]);
        ++counters_.evictions;
        keys_[slot] = key;
        index_.emplace(key, slot);
        ++counters_.inserts;
    }
    referenced_[slot] = 0;
    std::memcpy(values_.data() + std::size_t{slot} * columns_, value.data(),
                columns_ * sizeof(float));
}

void ResultCache::export_to(store::CacheContents& out) const {
    out.key_high.reserve(out.key_high.size() + keys_.size());
    out.key_low.reserve(out.key_low.size() + keys_.size());
    for (const Hash128& k : keys_) {
        out.key_high.push_back(k.high);
        out.key_low.push_back(k.low);
    }
    out.values.insert(out.values.end(), values_.begin(), values_.end());
}

void ResultCache::import_from(const store::CacheContents& in) {
    if (in.columns != columns_) return;
    std::vector<float> row(columns_);
    const Counters saved = counters_;
    index_.reserve(std::min(capacity_, index_.size() + in.key_high.size()));
    for (std::size_t e = 0; e < in.key_high.size(); ++e) {
        for (std::size_t c = 0; c < columns_; ++c)
            row[c] = static_cast<float>(in.values[e * columns_ + c]);
        insert({in.key_high[e], in.key_low[e]}, row);
    }
    counters_ = saved;
}

}  // namespace kiln::infer
