#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kiln/core/error.hpp"
#include "kiln/model/servable.hpp"

// Any JSON document is a valid servable or a DataError listing what is wrong; never a crash,
// an uncaught nlohmann exception or undefined behaviour.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded()) return 0;
    try {
        const auto s = kiln::model::Servable::from_json(doc, "fuzz");
        (void)s.input.to_string();
    } catch (const kiln::DataError&) {
    }
    return 0;
}
