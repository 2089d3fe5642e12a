// Images (PNG, JPEG, GIF, BMP, and the other formats stb_image reads): dimensions, channels
// and colour depth from the header, through Debian's libstb (stb_image), without decoding
// pixels. TIFF is not read by stb_image: its records keep the generic fields only.
#include <stb/stb_image.h>

#include <climits>

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
    if (b.substr(0, 4) == "II*\0" || b.substr(0, 4) == "MM\0*") return "tiff";
    return "other";
}

class ImageExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "image"; }

    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        const std::string format = image_format(file.bytes);
        if (format == "tiff") return {{{"image", {{"format", format}}}}};
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
