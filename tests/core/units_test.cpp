#include <gtest/gtest.h>

#include "kiln/core/error.hpp"
#include "kiln/core/units.hpp"

namespace kiln {
namespace {

TEST(Units, ParsesSizesWithBinarySuffixes) {
    EXPECT_EQ(parse_bytes("4096", "--x"), 4096U);
    EXPECT_EQ(parse_bytes("64k", "--x"), 64U * 1024);
    EXPECT_EQ(parse_bytes("256MiB", "--x"), 256ULL << 20);
    EXPECT_EQ(parse_bytes("1.5G", "--x"), 3ULL << 29);
    EXPECT_EQ(parse_bytes("2 GB", "--x"), 2ULL << 30);
}

TEST(Units, RejectsBadSizesNamingTheOption) {
    for (const char* bad : {"", "MiB", "12 parsecs", "-5", "1e400"}) {
        try {
            (void)parse_bytes(bad, "--shard-bytes");
            FAIL() << bad;
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("--shard-bytes"), std::string::npos);
            EXPECT_EQ(e.code(), ExitCode::kConfig);
        }
    }
}

TEST(Units, Formats) {
    EXPECT_EQ(format_bytes(17), "17 B");
    EXPECT_EQ(format_bytes(1536), "1.5 KiB");
    EXPECT_EQ(format_duration(3725), "01:02:05");
    EXPECT_EQ(format_duration(-1), "--:--:--");
    EXPECT_EQ(format_fixed(2.345, 1), "2.3");
}

}  // namespace
}  // namespace kiln
