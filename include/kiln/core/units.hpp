// Sizes, rates and durations as people write and read them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln {

/// Parses "4096", "64k", "256MiB", "1.5G", "2 GB" into bytes (k/M/G/T are powers of 1024, as
/// HPC tools use them). Throws kiln::ConfigError naming `option` and the text otherwise.
[[nodiscard]] std::uint64_t parse_bytes(std::string_view text, std::string_view option);

/// "1.5 GiB", "312 KiB", "17 B".
[[nodiscard]] std::string format_bytes(double bytes);
/// "01:02:03" (hours may exceed 24), "--:--:--" for a negative or non-finite value.
[[nodiscard]] std::string format_duration(double seconds);
/// Fixed-point number with `decimals` digits after the point.
[[nodiscard]] std::string format_fixed(double value, int decimals);

}  // namespace kiln
