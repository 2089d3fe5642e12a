// Work planning: pure functions, values in, values out (no MPI, no I/O).
#pragma once

#include <cstdint>
#include <vector>

namespace kiln::tasks {

/// A half-open range [begin, end) of item indices forming one work unit.
struct ItemRange {
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    [[nodiscard]] std::uint64_t count() const noexcept { return end - begin; }
    friend bool operator==(const ItemRange&, const ItemRange&) = default;
};

/// Splits items (in the given order; `sizes[i]` bytes each) into contiguous units such that
/// every unit holds at most `max_items` items and at most `max_bytes` bytes, except that an
/// item larger than `max_bytes` forms a unit by itself. Units are balanced: the number of
/// units is about max(total/max_bytes, n/max_items), each near the mean size. The plan
/// depends only on the arguments (not on the number of ranks), so every rank count produces
/// the same units. Empty input gives no units. `max_bytes` and `max_items` must be > 0.
[[nodiscard]] std::vector<ItemRange> plan_balanced(const std::vector<std::uint64_t>& sizes,
                                                   std::uint64_t max_bytes,
                                                   std::uint64_t max_items);

}  // namespace kiln::tasks
