#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "cli/job_file.hpp"
#include "kiln/core/error.hpp"

// Any text is a job file or a ConfigError naming the line: never a crash, a hang or
// undefined behaviour, whatever the sections, keys, comments or ${...} it holds.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    try {
        const kiln::cli::JobFile f = kiln::cli::parse_job_file(in, "fuzz.ini");
        for (const auto& name : f.section_order) {
            for (const auto& e : f.section(name)) (void)f.where(e);
        }
    } catch (const kiln::ConfigError&) {
    }
    return 0;
}
