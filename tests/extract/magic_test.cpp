#include <gtest/gtest.h>

#include <string>

#include "kiln/extract/magic_probe.hpp"

namespace kiln::extract {
namespace {

TEST(Magic, IdentifiesCommonContent) {
    for (const MagicMode mode : {MagicMode::kFast, MagicMode::kFull}) {
        MagicProbe p(mode);
        const std::string text = "Fe2O3\n1.0\n";
        EXPECT_EQ(p.probe(text.data(), text.size()).mime_type, "text/plain");
        EXPECT_EQ(p.probe(text.data(), text.size()).description, "ASCII text");
        const std::string json = "{\"a\": [1, 2, 3]}\n";
        EXPECT_EQ(p.probe(json.data(), json.size()).mime_type, "application/json");
        const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3,
                                    3,    0,    0,    0,    0, 0, 0, 0, 0, 0};
        EXPECT_EQ(p.probe(gz, sizeof gz).mime_type, "application/gzip");
        const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0,
                                     0,    13,  'I', 'H', 'D',  'R',  0,    0,    0, 1,
                                     0,    0,   0,   1,   8,    2,    0,    0,    0};
        EXPECT_EQ(p.probe(png, sizeof png).mime_type, "image/png");
        EXPECT_EQ(p.probe("", 0).mime_type, "application/x-empty");
    }
}

TEST(Magic, FullModeKnowsXmlFastModeSaysText) {
    const std::string xml = "<?xml version=\"1.0\"?>\n<modeling><i>1</i></modeling>\n";
    EXPECT_EQ(MagicProbe(MagicMode::kFull).probe(xml.data(), xml.size()).mime_type, "text/xml");
    EXPECT_EQ(MagicProbe(MagicMode::kFast).probe(xml.data(), xml.size()).mime_type, "text/plain");
}

}  // namespace
}  // namespace kiln::extract
