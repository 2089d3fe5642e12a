// File type identification with libmagic (what `file --mime-type` and `file` print).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace kiln::extract {

struct MagicResult {
    std::string mime_type;    // "text/plain", "application/gzip", ...
    std::string description;  // "ASCII text", "gzip compressed data, ...", ...
};

/// How much of libmagic runs per file.
///  - kFull: every libmagic test on the first 64 KiB, exactly what `file` prints; about
///    1-2 ms per text file (libmagic's text rules are slow), so it limits small-file ingest.
///  - kFast (default): libmagic's built-in tests (encoding, JSON, CSV, compression, tar, ELF,
///    CDF) on the first 4 KiB (256 KiB when the content starts like JSON, so JSON is
///    recognised); files that these call binary data get the full test set. The MIME type of
///    a plain text, JSON or CSV answer follows from its description, so those take one libmagic
///    call (about 5 us for a 1-4 KiB text here), others two. Text subtypes from the magic
///    database (text/xml, text/html, scripts) read as text/plain.
enum class MagicMode { kFast, kFull };

/// libmagic handles for MIME type and description. Loading the magic database costs a few
/// milliseconds, so keep one per thread. Not thread-safe.
class MagicProbe {
public:
    /// The most leading bytes of a file a probe looks at.
    static constexpr std::size_t kHeadBytes = 256 * 1024;

    /// Throws kiln::ConfigError when the magic database cannot be loaded.
    explicit MagicProbe(MagicMode mode = MagicMode::kFast);
    ~MagicProbe();
    MagicProbe(const MagicProbe&) = delete;
    MagicProbe& operator=(const MagicProbe&) = delete;

    /// Identifies a buffer (pass the first kHeadBytes or fewer of the file).
    [[nodiscard]] MagicResult probe(const void* data, std::size_t size);

    /// The calling thread's probe for `mode`, created on first use.
    static MagicProbe& for_this_thread(MagicMode mode);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::extract
