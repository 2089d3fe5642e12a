#include "kiln/store/layout.hpp"

#include <cstdio>
#include <utility>

namespace kiln::store {

Layout::Layout(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string Layout::catalog() const { return root_ + "/catalog.h5"; }
std::string Layout::shards_dir() const { return root_ + "/shards"; }
std::string Layout::journal_dir() const { return root_ + "/journal"; }
std::string Layout::shard(std::uint64_t shard_id) const {
    return root_ + "/" + shard_relative(shard_id);
}

std::string Layout::index_dir() const { return root_ + "/index"; }
std::string Layout::dictionary() const { return root_ + "/index/dictionary.h5"; }
std::string Layout::merged_segment() const { return root_ + "/index/merged.h5"; }
std::string Layout::segment(std::uint64_t shard_id) const {
    char buf[64];
    std::snprintf(buf, sizeof buf, "/index/segment-%06llu.h5",
                  static_cast<unsigned long long>(shard_id));
    return root_ + buf;
}

std::string Layout::shard_relative(std::uint64_t shard_id) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "shards/shard-%06llu.h5",
                  static_cast<unsigned long long>(shard_id));
    return buf;
}

}  // namespace kiln::store
