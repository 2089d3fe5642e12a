// The template for a new format: copy this file, rename the class and `name()`, parse
// `file.bytes`, return one JSON object per record with MDF blocks, throw DataError with the
// reason for bad content, add the factory to extractors.hpp and registry.cpp, and add a
// recognition rule to format.cpp. Tests: tests/extract/<format>_test.cpp and the fuzz harness.
#include <charconv>
#include <cmath>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"

namespace kiln::extract {
namespace {

class SkeletonExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "skeleton"; }
    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        // A skeleton record only counts lines, to show the shape of an extractor.
        if (file.bytes.empty()) throw DataError("empty file");
        return {{{"skeleton", {{"lines", split_lines(file.bytes).size()}}}}};
    }
};

}  // namespace

std::unique_ptr<Extractor> make_skeleton_extractor() {
    return std::make_unique<SkeletonExtractor>();
}

std::vector<std::string_view> split_lines(std::string_view text) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (end == text.size() && line.empty()) break;
        lines.push_back(line);
        start = end + 1;
    }
    return lines;
}

std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) words.push_back(line.substr(start, i - start));
    }
    return words;
}

double parse_double(std::string_view word, const std::string& what) {
    double v = 0;
    const char* begin = word.data();
    if (!word.empty() && word.front() == '+') ++begin;
    const auto [ptr, ec] = std::from_chars(begin, word.data() + word.size(), v);
    if (ec != std::errc() || ptr != word.data() + word.size() || !std::isfinite(v)) {
        throw DataError(what + ": '" + std::string(word.substr(0, 40)) +
                        "' is not a finite number");
    }
    return v;
}

}  // namespace kiln::extract
