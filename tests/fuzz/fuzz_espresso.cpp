#include "extract_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz_extractor("espresso", "pw.out", data, size);
}
