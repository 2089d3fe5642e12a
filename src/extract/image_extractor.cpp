// Images (PNG, JPEG, GIF, BMP, and the other formats stb_image reads): dimensions, channels
// and colour depth from the header, through Debian's libstb (stb_image), without decoding
// pixels. TIFF (microscopy, diffraction detectors), which stb_image does not read, through
// libtiff: the first image's dimensions and the number of pages.
#include <stb/stb_image.h>
#include <tiffio.h>

#include <algorithm>
#include <climits>
#include <cstdarg>
#include <cstdio>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"

namespace kiln::extract {
namespace {

std::string image_format(std::string_view b) {
    if (b.substr(0, 8) == "\x89PNG\r\n\x1a\n") return "png";
    if (b.substr(0, 3) == "\xff\xd8\xff") return "jpeg";
    if (b.substr(0, 4) == "GIF8") return "gif";
    if (b.substr(0, 2) == "BM") return "bmp";
    if (b.substr(0, 4) == "8BPS") return "psd";
    // Sized literals: a plain "II*\0" would end at its NUL and never match.
    using namespace std::string_view_literals;
    if (b.substr(0, 4) == "II*\0"sv || b.substr(0, 4) == "MM\0*"sv) return "tiff";
    return "other";
}

// libtiff reads from the bytes in memory through these callbacks.
struct Memory {
    std::string_view bytes;
    toff_t at = 0;
    std::string error;  // libtiff's last error message
};

tmsize_t memory_read(thandle_t h, void* out, tmsize_t n) {
    auto& m = *static_cast<Memory*>(h);
    if (n < 0 || m.at >= m.bytes.size()) return 0;
    const auto k = std::min<std::size_t>(static_cast<std::size_t>(n), m.bytes.size() - m.at);
    std::copy_n(m.bytes.data() + m.at, k, static_cast<char*>(out));
    m.at += k;
    return static_cast<tmsize_t>(k);
}
tmsize_t memory_write(thandle_t, void*, tmsize_t) { return -1; }
toff_t memory_seek(thandle_t h, toff_t off, int whence) {
    auto& m = *static_cast<Memory*>(h);
    const toff_t base = whence == SEEK_CUR ? m.at : whence == SEEK_END ? m.bytes.size() : 0;
    m.at = base + off;
    return m.at;
}
int memory_close(thandle_t) { return 0; }
toff_t memory_size(thandle_t h) { return static_cast<Memory*>(h)->bytes.size(); }
int memory_map(thandle_t, void**, toff_t*) { return 0; }
void memory_unmap(thandle_t, void*, toff_t) {}
__attribute__((format(printf, 4, 0))) int keep_error(TIFF*, void* user, const char*,
                                                     const char* fmt, va_list ap) {
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    static_cast<Memory*>(user)->error = buf;
    return 1;  // handled: nothing is printed
}
int ignore_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

nlohmann::json tiff_fields(std::string_view bytes) {
    Memory m{bytes, 0, {}};
    TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(options, keep_error, &m);
    TIFFOpenOptionsSetWarningHandlerExtR(options, ignore_warning, nullptr);
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, tmsize_t{64} << 20);
    // "m": no memory mapping (the callbacks serve the bytes); "r": read only.
    TIFF* tif = TIFFClientOpenExt("image", "rm", &m, memory_read, memory_write, memory_seek,
                                  memory_close, memory_size, memory_map, memory_unmap, options);
    TIFFOpenOptionsFree(options);
    if (tif == nullptr) throw DataError("unreadable TIFF: " + m.error);
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint16_t channels = 1;
    std::uint16_t bits = 1;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &channels);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
    const tdir_t pages = TIFFNumberOfDirectories(tif);
    TIFFClose(tif);
    if (width == 0 || height == 0) throw DataError("TIFF without image width or length");
    return {{"format", "tiff"},
            {"width", width},
            {"height", height},
            {"channels", channels},
            {"shape", {height, width, channels}},
            {"color_depth", channels * bits},
            {"pages", pages}};
}

class ImageExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "image"; }

    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        const std::string format = image_format(file.bytes);
        if (format == "tiff") return {{{"image", tiff_fields(file.bytes)}}};
        if (file.bytes.size() > static_cast<std::size_t>(INT_MAX))
            throw DataError("image larger than 2 GiB");
        const auto* data = reinterpret_cast<const stbi_uc*>(file.bytes.data());
        const int len = static_cast<int>(file.bytes.size());
        int width = 0;
        int height = 0;
        int channels = 0;
        if (stbi_info_from_memory(data, len, &width, &height, &channels) == 0) {
            throw DataError(std::string("unreadable image header: ") + stbi_failure_reason());
        }
        const int bits = stbi_is_16_bit_from_memory(data, len) != 0 ? 16 : 8;
        return {{{"image",
                  {{"format", format},
                   {"width", width},
                   {"height", height},
                   {"channels", channels},
                   {"shape", {height, width, channels}},
                   {"color_depth", channels * bits}}}}};
    }
};

}  // namespace

std::unique_ptr<Extractor> make_image_extractor() { return std::make_unique<ImageExtractor>(); }

}  // namespace kiln::extract
