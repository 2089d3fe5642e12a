// Progress lines printed by rank 0 at an interval: done/total, rates and ETA.
#pragma once

#include <cstdint>
#include <string>

namespace kiln {

/// Tracks the progress of one phase (items and bytes) and formats progress lines.
/// Pure: time is passed in as seconds since the phase started, so tests control it.
class Progress {
public:
    /// `label` names the phase ("ingest"); `item_name` the items ("files").
    Progress(std::string label, std::string item_name, std::uint64_t total_items,
             std::uint64_t total_bytes, double interval_s);

    void set_done(std::uint64_t items, std::uint64_t bytes) noexcept;
    /// True when at least interval_s has passed since the last line (or none was printed).
    [[nodiscard]] bool due(double now_s) const noexcept;
    /// "ingest: 12/40 units, 3400/12000 files (28.3%), 1.2 GiB, 450.0 files/s, 120.0 MB/s,
    /// ETA 00:01:30"; without byte figures when total_bytes is 0. Marks a line as printed at
    /// `now_s`. `extra` is appended when not empty.
    [[nodiscard]] std::string line(double now_s, const std::string& extra = {});

    [[nodiscard]] double items_per_s(double now_s) const noexcept;
    [[nodiscard]] double bytes_per_s(double now_s) const noexcept;
    /// Seconds left at the current byte rate (item rate when there are no bytes); -1 unknown.
    [[nodiscard]] double eta_s(double now_s) const noexcept;

private:
    std::string label_;
    std::string item_name_;
    std::uint64_t total_items_;
    std::uint64_t total_bytes_;
    double interval_s_;
    std::uint64_t done_items_ = 0;
    std::uint64_t done_bytes_ = 0;
    double last_line_s_ = -1;
};

}  // namespace kiln
