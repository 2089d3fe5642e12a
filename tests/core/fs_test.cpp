#include <gtest/gtest.h>

#include <filesystem>

#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "test_util.hpp"

namespace kiln {
namespace {

TEST(Fs, AtomicWriteLeavesNoTemporary) {
    test::TempDir dir;
    fs::write_file_atomic(dir / "a.json", "{\"x\":1}");
    EXPECT_EQ(fs::read_file(dir / "a.json"), "{\"x\":1}");
    EXPECT_FALSE(std::filesystem::exists(dir / "a.json.tmp"));
    fs::write_file_atomic(dir / "a.json", "second");
    EXPECT_EQ(fs::read_file(dir / "a.json"), "second");
}

TEST(Fs, AppendLineIsDurableText) {
    test::TempDir dir;
    fs::append_line_durable(dir / "j", "one");
    fs::append_line_durable(dir / "j", "two");
    EXPECT_EQ(fs::read_file(dir / "j"), "one\ntwo\n");
}

TEST(Fs, ErrorsNameThePath) {
    try {
        fs::write_file_atomic("/nonexistent-dir/x", "y");
        FAIL();
    } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x"), std::string::npos);
        EXPECT_EQ(e.code(), ExitCode::kIoError);
    }
}

}  // namespace
}  // namespace kiln
