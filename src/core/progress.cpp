#include "kiln/core/progress.hpp"

#include <algorithm>
#include <utility>

#include "kiln/core/units.hpp"

namespace kiln {

Progress::Progress(std::string label, std::string item_name, std::uint64_t total_items,
                   std::uint64_t total_bytes, double interval_s)
    : label_(std::move(label)),
      item_name_(std::move(item_name)),
      total_items_(total_items),
      total_bytes_(total_bytes),
      interval_s_(interval_s) {}

void Progress::set_done(std::uint64_t items, std::uint64_t bytes) noexcept {
    done_items_ = items;
    done_bytes_ = bytes;
}

bool Progress::due(double now_s) const noexcept {
    return last_line_s_ < 0 || now_s - last_line_s_ >= interval_s_;
}

double Progress::items_per_s(double now_s) const noexcept {
    return now_s > 0 ? static_cast<double>(done_items_) / now_s : 0.0;
}

double Progress::bytes_per_s(double now_s) const noexcept {
    return now_s > 0 ? static_cast<double>(done_bytes_) / now_s : 0.0;
}

double Progress::eta_s(double now_s) const noexcept {
    if (total_bytes_ > 0 && done_bytes_ > 0) {
        const double rate = bytes_per_s(now_s);
        return rate > 0
                   ? static_cast<double>(total_bytes_ - std::min(done_bytes_, total_bytes_)) / rate
                   : -1.0;
    }
    if (done_items_ > 0) {
        const double rate = items_per_s(now_s);
        return rate > 0
                   ? static_cast<double>(total_items_ - std::min(done_items_, total_items_)) / rate
                   : -1.0;
    }
    return -1.0;
}

std::string Progress::line(double now_s, const std::string& extra) {
    last_line_s_ = now_s;
    const double pct = total_items_ > 0 ? 100.0 * static_cast<double>(done_items_) /
                                              static_cast<double>(total_items_)
                                        : 100.0;
    std::string s = label_ + ": " + std::to_string(done_items_) + "/" +
                    std::to_string(total_items_) + " " + item_name_ + " (" + format_fixed(pct, 1) +
                    "%), ";
    // A phase that counts no bytes (kiln infer counts rows) prints no byte figures.
    if (total_bytes_ > 0) s += format_bytes(static_cast<double>(done_bytes_)) + ", ";
    s += format_fixed(items_per_s(now_s), 1) + " " + item_name_ + "/s";
    if (total_bytes_ > 0) s += ", " + format_fixed(bytes_per_s(now_s) / 1e6, 1) + " MB/s";
    if (!extra.empty()) s += ", " + extra;
    s += ", ETA " + format_duration(eta_s(now_s));
    return s;
}

}  // namespace kiln
