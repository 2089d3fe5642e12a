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

ResultCache::ResultCache(std::size_t max_bytes, std::size_t columns) : columns_(columns) {
    // Per entry: the key, the values, two flag bytes, and ~48 bytes of hash-map node.
    const std::size_t per_entry = sizeof(Hash128) + columns * sizeof(float) + 2 + 48;
    const std::size_t n = std::max<std::size_t>(1, max_bytes / per_entry);
    keys_.resize(n);
    values_.resize(n * columns);
    referenced_.assign(n, 0);
    used_.assign(n, 0);
    index_.reserve(n);
}

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
    } else {
        // CLOCK: advance the hand past referenced slots (clearing their bit) to a victim.
        while (used_[hand_] != 0 && referenced_[hand_] != 0) {
            referenced_[hand_] = 0;
            hand_ = (hand_ + 1) % keys_.size();
        }
        slot = static_cast<std::uint32_t>(hand_);
        hand_ = (hand_ + 1) % keys_.size();
        if (used_[slot] != 0) {
            index_.erase(keys_[slot]);
            ++counters_.evictions;
        }
        used_[slot] = 1;
        keys_[slot] = key;
        index_.emplace(key, slot);
        ++counters_.inserts;
    }
    referenced_[slot] = 0;
    std::memcpy(values_.data() + std::size_t{slot} * columns_, value.data(),
                columns_ * sizeof(float));
}

void ResultCache::export_to(store::CacheContents& out) const {
    for (std::size_t s = 0; s < keys_.size(); ++s) {
        if (used_[s] == 0) continue;
        out.key_high.push_back(keys_[s].high);
        out.key_low.push_back(keys_[s].low);
        for (std::size_t c = 0; c < columns_; ++c) out.values.push_back(values_[s * columns_ + c]);
    }
}

void ResultCache::import_from(const store::CacheContents& in) {
    if (in.columns != columns_) return;
    std::vector<float> row(columns_);
    const Counters saved = counters_;
    for (std::size_t e = 0; e < in.key_high.size(); ++e) {
        for (std::size_t c = 0; c < columns_; ++c)
            row[c] = static_cast<float>(in.values[e * columns_ + c]);
        insert({in.key_high[e], in.key_low[e]}, row);
    }
    counters_ = saved;
}

}  // namespace kiln::infer
