#include <gtest/gtest.h>

#include "kiln/core/error.hpp"
#include "kiln/core/hash.hpp"
#include "test_util.hpp"

namespace kiln {
namespace {

TEST(Hash, KnownXxh3Vectors) {
    // Reference digests from Python's xxhash 3.2 (xxh3_128_hexdigest / xxh3_64_intdigest).
    EXPECT_EQ(xxh3_128("").hex(), "99aa06d3014798d86001c324468d497f");
    EXPECT_EQ(xxh3_128("abc").hex(), "06b05ab6733a618578af5f94892f3950");
    EXPECT_EQ(xxh3_64("abc", 3), 0x78af5f94892f3950ULL);
}

TEST(Hash, StreamingEqualsOneShot) {
    std::string data(100000, 'x');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7919 % 251);
    Hasher128 h;
    h.update(data.data(), 10);
    h.update(data.data() + 10, 40000);
    h.update(data.data() + 40010, data.size() - 40010);
    EXPECT_EQ(h.digest(), xxh3_128(data));
    h.reset();
    EXPECT_EQ(h.digest(), xxh3_128(""));
}

TEST(Hash, HexRoundTripAndRejectsGarbage) {
    const Hash128 h = xxh3_128("kiln");
    EXPECT_EQ(Hash128::from_hex(h.hex()), h);
    EXPECT_THROW((void)Hash128::from_hex("xyz"), DataError);
    EXPECT_THROW((void)Hash128::from_hex(std::string(32, 'g')), DataError);
}

TEST(Hash, FileHashEqualsBufferHash) {
    test::TempDir dir;
    const std::string text(3 << 20, 'q');
    test::write_text(dir / "f", text);
    EXPECT_EQ(xxh3_128_file(dir / "f"), xxh3_128(text));
    test::write_text(dir / "empty", "");
    EXPECT_EQ(xxh3_128_file(dir / "empty"), xxh3_128(""));
    EXPECT_THROW((void)xxh3_128_file(dir / "missing"), IoError);
    // Sizes at the edges of the 256 KiB reads, with bytes that differ by position.
    for (const std::size_t size :
         {std::size_t{256} << 10, (std::size_t{256} << 10) + 1, (std::size_t{512} << 10) - 1}) {
        std::string bytes(size, '\0');
        for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i * 131 % 251);
        test::write_text(dir / "edge", bytes);
        EXPECT_EQ(xxh3_128_file(dir / "edge"), xxh3_128(bytes)) << size;
    }
}

}  // namespace
}  // namespace kiln
