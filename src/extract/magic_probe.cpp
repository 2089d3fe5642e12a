#include "kiln/extract/magic_probe.hpp"

#include <magic.h>

#include <algorithm>
#include <string_view>

#include "kiln/core/error.hpp"

namespace kiln::extract {
namespace {

constexpr std::size_t kFullHeadBytes = 64 * 1024;
constexpr std::size_t kFastHeadBytes = 4 * 1024;
constexpr int kFastFlags = MAGIC_NO_CHECK_SOFT;

magic_t open_magic(int flags) {
    magic_t m = magic_open(flags | MAGIC_ERROR);
    if (m == nullptr) throw ConfigError("libmagic: magic_open failed");
    if (magic_load(m, nullptr) != 0) {
        const std::string why = magic_error(m) != nullptr ? magic_error(m) : "unknown error";
        magic_close(m);
        throw ConfigError("libmagic cannot load its database (package libmagic-mgc): " + why);
    }
    return m;
}

std::string answer(magic_t m, const void* data, std::size_t size, const char* fallback) {
    const char* r = magic_buffer(m, data, size);
    return r != nullptr ? std::string(r) : std::string(fallback);
}

// The MIME type libmagic gives a buffer whose description its built-in tests (no magic
// database) gave as `description`, where that description says it: the text, JSON and CSV
// tests print a fixed description in one mode and a fixed type in the other, so the second
// libmagic call (about 3 us of a small file's 7) is not made. Empty when the answer must come
// from libmagic. MagicTest.FastAnswersAreLibmagicsOwn checks each against libmagic.
std::string_view builtin_mime(std::string_view description) {
    if (description == "empty") return "application/x-empty";
    if (description == "JSON text data") return "application/json";
    if (description == "New Line Delimited JSON text data") return "application/x-ndjson";
    if (description == "CSV text") return "text/csv";
    // ascmagic: "<encoding> text", then ", with CRLF line terminators", ", with very long
    // lines (N)", ... for these encodings (UTF-16, EBCDIC and the rest ask libmagic).
    for (const std::string_view encoding :
         {"ASCII text", "Unicode text, UTF-8 text", "Unicode text, UTF-8 (with BOM) text",
          "ISO-8859 text"}) {
        if (description.starts_with(encoding)) {
            const std::string_view rest = description.substr(encoding.size());
            if (rest.empty() || rest.starts_with(", with ")) return "text/plain";
        }
    }
    return {};
}

bool starts_like_json(const void* data, std::size_t size) {
    const std::string_view s(static_cast<const char*>(data), std::min<std::size_t>(size, 64));
    const auto i = s.find_first_not_of(" \t\r\n");
    return i != std::string_view::npos && (s[i] == '{' || s[i] == '[');
}

}  // namespace

struct MagicProbe::Impl {
    MagicMode mode;
    magic_t full_mime = nullptr;
    magic_t full_text = nullptr;
    magic_t fast_mime = nullptr;
    magic_t fast_text = nullptr;
};

MagicProbe::MagicProbe(MagicMode mode) : impl_(std::make_unique<Impl>()) {
    impl_->mode = mode;
    impl_->full_mime = open_magic(MAGIC_MIME_TYPE);
    impl_->full_text = open_magic(MAGIC_NONE);
    if (mode == MagicMode::kFast) {
        impl_->fast_mime = open_magic(MAGIC_MIME_TYPE | kFastFlags);
        impl_->fast_text = open_magic(MAGIC_NONE | kFastFlags);
    }
}

MagicProbe::~MagicProbe() {
    for (magic_t m : {impl_->full_mime, impl_->full_text, impl_->fast_mime, impl_->fast_text}) {
        if (m != nullptr) magic_close(m);
    }
}

MagicResult MagicProbe::probe(const void* data, std::size_t size) {
    const std::size_t full_size = std::min(size, kFullHeadBytes);
    if (impl_->mode == MagicMode::kFast) {
        const std::size_t n =
            std::min(size, starts_like_json(data, size) ? kHeadBytes : kFastHeadBytes);
        MagicResult r{{}, answer(impl_->fast_text, data, n, "data")};
        // "data" (no test matched) and "very short file" are application/octet-stream: binary
        // content gets the full test set.
        if (r.description != "data" && !r.description.starts_with("very short file")) {
            r.mime_type = builtin_mime(r.description);
            if (r.mime_type.empty()) {
                r.mime_type = answer(impl_->fast_mime, data, n, "application/octet-stream");
            }
            if (r.mime_type != "application/octet-stream") return r;
        }
    }
    return {answer(impl_->full_mime, data, full_size, "application/octet-stream"),
            answer(impl_->full_text, data, full_size, "data")};
}

MagicProbe& MagicProbe::for_this_thread(MagicMode mode) {
    if (mode == MagicMode::kFull) {
        thread_local MagicProbe full(MagicMode::kFull);
        return full;
    }
    thread_local MagicProbe fast(MagicMode::kFast);
    return fast;
}

}  // namespace kiln::extract
