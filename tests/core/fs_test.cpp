#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

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

TEST(Fs, ReadUpToFillsTheBufferOrStopsAtTheEnd) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    const fs::Fd in(p[0]);
    {
        const fs::Fd out(p[1]);
        ASSERT_EQ(::write(out.get(), "abc", 3), 3);
    }  // closed: the reader sees the end after 3 bytes
    std::string buf(10, '.');
    EXPECT_EQ(fs::read_up_to(in.get(), buf.data(), buf.size(), "the pipe"), 3U);
    EXPECT_EQ(buf.substr(0, 3), "abc");
    EXPECT_EQ(fs::read_up_to(in.get(), buf.data(), buf.size(), "the pipe"), 0U);

    test::TempDir dir;
    const fs::Fd d(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
    ASSERT_GE(d.get(), 0);
    try {
        (void)fs::read_up_to(d.get(), buf.data(), buf.size(), "'my dir'");
        FAIL() << "reading a directory must fail";
    } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("read error in 'my dir'"), std::string::npos);
    }
}

}  // namespace
}  // namespace kiln
