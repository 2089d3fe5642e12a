#include <gtest/gtest.h>
#include <magic.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

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

// libmagic's own answers as the fast probe asked for them before it read the MIME type off
// the description: a MIME call and a description call with the built-in tests on the head,
// and both calls with every test when the MIME type is application/octet-stream.
class TwoCalls {
public:
    TwoCalls() {
        for (auto& [m, flags] :
             {std::pair{&fast_mime_, MAGIC_MIME_TYPE | MAGIC_NO_CHECK_SOFT},
              std::pair{&fast_text_, MAGIC_NONE | MAGIC_NO_CHECK_SOFT},
              std::pair{&full_mime_, MAGIC_MIME_TYPE}, std::pair{&full_text_, MAGIC_NONE}}) {
            *m = magic_open(flags);
            if (*m == nullptr || magic_load(*m, nullptr) != 0) throw std::runtime_error("libmagic");
        }
    }
    ~TwoCalls() {
        for (magic_t m : {fast_mime_, fast_text_, full_mime_, full_text_}) magic_close(m);
    }
    TwoCalls(const TwoCalls&) = delete;
    TwoCalls& operator=(const TwoCalls&) = delete;
    MagicResult answer(const std::string& file) {
        const auto first = file.find_first_not_of(" \t\r\n");
        const bool json =
            first != std::string::npos && first < 64 && (file[first] == '{' || file[first] == '[');
        const std::size_t head = std::min(file.size(), json ? MagicProbe::kHeadBytes : 4096);
        MagicResult r{magic_buffer(fast_mime_, file.data(), head), {}};
        if (r.mime_type != "application/octet-stream") {
            r.description = magic_buffer(fast_text_, file.data(), head);
            return r;
        }
        const std::size_t full = std::min<std::size_t>(file.size(), 64 * 1024);
        return {magic_buffer(full_mime_, file.data(), full),
                magic_buffer(full_text_, file.data(), full)};
    }

private:
    magic_t fast_mime_ = nullptr, fast_text_ = nullptr, full_mime_ = nullptr, full_text_ = nullptr;
};

void expect_libmagics_answer(MagicProbe& probe, TwoCalls& libmagic, const std::string& file,
                             const std::string& name) {
    const MagicResult want = libmagic.answer(file);
    const MagicResult got = probe.probe(file.data(), file.size());
    EXPECT_EQ(got.mime_type, want.mime_type) << name << " (" << want.description << ")";
    EXPECT_EQ(got.description, want.description) << name;
}

TEST(MagicTest, FastAnswersAreLibmagicsOwn) {
    const std::string line(1000, 'x');
    std::string binary(3000, '\0');
    std::mt19937 rng(7);
    for (char& c : binary) c = static_cast<char>(rng());
    const std::vector<std::pair<std::string, std::string>> files = {
        {"ascii", "Fe2O3\n1.0\n4.0 0 0\n"},
        {"crlf", "a b\r\nc d\r\n"},
        {"cr", "a b\rc d\r"},
        {"crlf and lf", "a\r\nb\nc\n"},
        {"no line terminator", "Fe2O3 1.0"},
        {"very long lines", line + "\n" + line + "\n"},
        {"escape sequences", "\x1b[31mred\x1b[0m\n"},
        {"overstriking", "a\bb bold\n"},
        {"utf-8", "\xc3\x85ngstr\xc3\xb6m 1.0\n"},
        {"utf-8 with bom",
         "\xef\xbb\xbf"
         "Fe 1.0\n"},
        {"iso-8859", "caf\xe9 1.0\n"},
        {"extended ascii", "\x80\x81\x82 abc\x85 def\n"},
        {"utf-16", std::string("\xff\xfe"
                               "F\0e\0\n\0",
                               8)},
        {"json", "{\"a\": [1, 2, 3], \"b\": \"x\"}\n"},
        {"json array", "[1, 2, {\"c\": null}]"},
        {"ndjson", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n"},
        {"not quite json", "{\"a\": 1,\n"},
        {"csv", "formula,energy\nFe2O3,-1.5\nLiFePO4,-2.5\nNaCl,-0.3\n"},
        {"tsv", "formula\tenergy\nFe2O3\t-1.5\n"},
        {"empty", ""},
        {"one byte", "x"},
        {"binary", binary},
        {"gzip", std::string("\x1f\x8b\x08\0\0\0\0\0\0\x03\x03\0\0\0\0\0\0\0\0\0", 20)},
        {"xml", "<?xml version=\"1.0\"?>\n<modeling><i>1</i></modeling>\n"},
        {"cr only long", line + "\r" + line + "\r"},
    };
    MagicProbe probe(MagicMode::kFast);
    TwoCalls libmagic;
    for (const auto& [name, file] : files) expect_libmagics_answer(probe, libmagic, file, name);
}

TEST(MagicTest, FastAnswersOnRealFilesAreLibmagicsOwn) {
    const std::filesystem::path root = "/usr/share/doc/pymatgen-test-files/examples/test_files";
    if (!std::filesystem::is_directory(root)) {
        GTEST_SKIP() << "pymatgen-test-files is not installed (scripts/setup.sh installs it)";
    }
    MagicProbe probe(MagicMode::kFast);
    TwoCalls libmagic;
    std::size_t files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::string head(MagicProbe::kHeadBytes, '\0');
        in.read(head.data(), static_cast<std::streamsize>(head.size()));
        head.resize(static_cast<std::size_t>(in.gcount()));
        expect_libmagics_answer(probe, libmagic, head, e.path().string());
        ++files;
    }
    EXPECT_GT(files, 1000U);
}

}  // namespace
}  // namespace kiln::extract
