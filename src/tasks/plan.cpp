#include "kiln/tasks/plan.hpp"

#include <algorithm>
#include <cmath>

#include "kiln/core/error.hpp"

namespace kiln::tasks {

std::vector<ItemRange> plan_balanced(const std::vector<std::uint64_t>& sizes,
                                     std::uint64_t max_bytes, std::uint64_t max_items) {
    KILN_ASSERT(max_bytes > 0 && max_items > 0, "plan_balanced needs positive limits");
    std::vector<ItemRange> units;
    const auto n = static_cast<std::uint64_t>(sizes.size());
    if (n == 0) return units;

    long double total = 0;
    for (const auto s : sizes) total += static_cast<long double>(s);
    const auto by_bytes =
        static_cast<std::uint64_t>(std::ceil(total / static_cast<long double>(max_bytes)));
    const std::uint64_t by_items = (n + max_items - 1) / max_items;
    const std::uint64_t target_units = std::max<std::uint64_t>({1, by_bytes, by_items});
    const long double target_bytes = total / static_cast<long double>(target_units);
    const std::uint64_t target_items = (n + target_units - 1) / target_units;

    // Unit k should end near the k+1-th equal share of bytes (of items, when every item is
    // empty); the hard limits close a unit earlier when needed.
    ItemRange current{0, 0};
    long double current_bytes = 0;
    long double before = 0;  // bytes of all items before i
    for (std::uint64_t i = 0; i < n; ++i) {
        const auto size = static_cast<long double>(sizes[i]);
        const auto k = static_cast<long double>(units.size() + 1);
        const bool past_share =
            total > 0 ? before + size / 2 > k * target_bytes
                      : static_cast<long double>(i) >= k * static_cast<long double>(target_items);
        const bool full =
            current.count() > 0 && (current_bytes + size > static_cast<long double>(max_bytes) ||
                                    current.count() >= max_items || past_share);
        if (full) {
            units.push_back(current);
            current = ItemRange{i, i};
            current_bytes = 0;
        }
        current.end = i + 1;
        current_bytes += size;
        before += size;
    }
    units.push_back(current);
    return units;
}

}  // namespace kiln::tasks
