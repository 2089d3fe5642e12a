#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kiln/core/error.hpp"
#include "kiln/extract/composition.hpp"

// Any text is a composition or a DataError; nothing else may escape.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto c = kiln::extract::parse_formula(text);
        (void)c.reduced().formula();
        (void)c.anonymous_formula();
        if (c.num_atoms() < 0) __builtin_trap();
    } catch (const kiln::DataError&) {
    }
    return 0;
}
