#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kiln/core/error.hpp"
#include "kiln/index/query.hpp"

// Any text is a query tree or a UsageError naming a column; the canonical text of a tree
// parses to the same tree.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto tree = kiln::index::parse_query(text);
        (void)kiln::index::to_string(tree);
    } catch (const kiln::UsageError& e) {
        if (std::string_view(e.what()).find("column ") == std::string_view::npos) __builtin_trap();
    }
    return 0;
}
