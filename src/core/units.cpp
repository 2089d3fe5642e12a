#include "kiln/core/units.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

#include "kiln/core/error.hpp"

namespace kiln {

std::uint64_t parse_bytes(std::string_view text, std::string_view option) {
    const auto fail = [&]() -> ConfigError {
        return ConfigError("option " + std::string(option) + ": '" + std::string(text) +
                           "' is not a size (expected e.g. 4096, 64KiB, 256MiB, 1G)");
    };
    std::size_t i = 0;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) ++i;
    const std::size_t start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) {
        ++i;
    }
    if (i == start) throw fail();
    double value = 0;
    try {
        value = std::stod(std::string(text.substr(start, i - start)));
    } catch (const std::exception&) {
        throw fail();
    }
    while (i < text.size() && text[i] == ' ') ++i;
    std::string suffix;
    for (; i < text.size(); ++i) {
        suffix.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text[i]))));
    }
    double scale = 1;
    if (suffix.empty() || suffix == "b") {
        scale = 1;
    } else if (suffix == "k" || suffix == "kb" || suffix == "kib") {
        scale = 1024.0;
    } else if (suffix == "m" || suffix == "mb" || suffix == "mib") {
        scale = 1024.0 * 1024.0;
    } else if (suffix == "g" || suffix == "gb" || suffix == "gib") {
        scale = 1024.0 * 1024.0 * 1024.0;
    } else if (suffix == "t" || suffix == "tb" || suffix == "tib") {
        scale = 1024.0 * 1024.0 * 1024.0 * 1024.0;
    } else {
        throw fail();
    }
    const double bytes = value * scale;
    if (!std::isfinite(bytes) || bytes < 0 || bytes > 1.8e19) throw fail();
    return static_cast<std::uint64_t>(bytes);
}

std::string format_fixed(double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

std::string format_bytes(double bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int unit = 0;
    while (bytes >= 1024.0 && unit < 5) {
        bytes /= 1024.0;
        ++unit;
    }
    return format_fixed(bytes, unit == 0 ? 0 : 1) + " " + kUnits[unit];
}

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "--:--:--";
    const auto total = static_cast<long long>(std::llround(seconds));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", total / 3600, (total / 60) % 60,
                  total % 60);
    return buf;
}

}  // namespace kiln
