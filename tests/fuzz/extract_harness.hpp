// Shared body of the extractor harnesses: any input must give records or a per-file error,
// never a crash, a hang, or an exception escaping extract_file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kiln/extract/extractor.hpp"

inline int fuzz_extractor(const char* format, const char* name, const std::uint8_t* data,
                          std::size_t size) {
    kiln::extract::ExtractLimits limits;
    limits.max_decompressed_bytes = std::size_t{16} << 20;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto records = kiln::extract::extract_file(name, format, bytes, limits);
    if (records.empty()) __builtin_trap();  // the contract: at least one fragment
    for (const auto& r : records)
        (void)r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return 0;
}
