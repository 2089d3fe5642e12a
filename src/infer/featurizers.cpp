// The built-in featurizers (see kiln/infer/featurizer.hpp for their exact definitions).
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <memory>

#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"
#include "kiln/infer/featurizer.hpp"

namespace kiln::infer {

extern const char* const kMagpieCsv;

namespace {

constexpr int kElements = 118;

// Checks a row and returns its atomic fractions, in the row's order.
std::vector<double> fractions(const CompositionRow& row, std::string_view featurizer) {
    if (row.empty()) throw DataError(std::string(featurizer) + ": empty composition");
    double total = 0;
    for (const auto& [z, amount] : row) {
        if (z < 1 || z > kElements)
            throw DataError(std::string(featurizer) + ": atomic number " + std::to_string(z) +
                            " is not an element (1..118)");
        if (!std::isfinite(amount) || amount <= 0)
            throw DataError(std::string(featurizer) + ": amount of " + element_symbol(z) + " is " +
                            std::to_string(amount) + ", expected a finite number > 0");
        total += amount;
    }
    std::vector<double> f;
    f.reserve(row.size());
    for (const auto& [z, amount] : row) f.push_back(amount / total);
    return f;
}

class ElementFraction final : public Featurizer {
public:
    [[nodiscard]] std::string_view name() const override { return "element_fraction"; }
    [[nodiscard]] std::size_t width() const override { return kElements; }
    void featurize(const CompositionRow& row, std::span<float> out) const override {
        const auto f = fractions(row, name());
        std::fill(out.begin(), out.end(), 0.0F);
        for (std::size_t i = 0; i < row.size(); ++i)
            out[static_cast<std::size_t>(row[i].first - 1)] += static_cast<float>(f[i]);
    }
    [[nodiscard]] std::vector<std::string> feature_names() const override {
        std::vector<std::string> n;
        for (int z = 1; z <= kElements; ++z) n.push_back("frac_" + element_symbol(z));
        return n;
    }
};

class ElemNet86 final : public Featurizer {
public:
    ElemNet86() {
        column_.fill(-1);
        int c = 0;
        for (int z = 1; z <= 94; ++z) {
            if (std::find(kExcluded.begin(), kExcluded.end(), z) == kExcluded.end())
                column_[static_cast<std::size_t>(z)] = c++;
        }
    }
    [[nodiscard]] std::string_view name() const override { return "elemnet86"; }
    [[nodiscard]] std::size_t width() const override { return 86; }
    void featurize(const CompositionRow& row, std::span<float> out) const override {
        const auto f = fractions(row, name());
        std::fill(out.begin(), out.end(), 0.0F);
        for (std::size_t i = 0; i < row.size(); ++i) {
            const int z = row[i].first;
            const int c = z <= 94 ? column_[static_cast<std::size_t>(z)] : -1;
            if (c < 0)
                throw DataError("elemnet86: element " + element_symbol(z) +
                                " is not one of its 86 (Z 1..94 without He, Ne, Ar, Po, At, Rn, "
                                "Fr, Ra)");
            out[static_cast<std::size_t>(c)] += static_cast<float>(f[i]);
        }
    }
    [[nodiscard]] std::vector<std::string> feature_names() const override {
        std::vector<std::string> n;
        for (int z = 1; z <= 94; ++z) {
            if (column_[static_cast<std::size_t>(z)] >= 0) n.push_back("frac_" + element_symbol(z));
        }
        return n;
    }

private:
    static constexpr std::array<int, 8> kExcluded = {2, 10, 18, 84, 85, 86, 87, 88};
    std::array<int, 95> column_{};
};

constexpr std::array<const char*, 6> kStats = {"minimum", "maximum", "range",
                                               "mean",    "avg_dev", "mode"};

class Magpie final : public Featurizer {
public:
    [[nodiscard]] std::string_view name() const override { return "magpie"; }
    [[nodiscard]] std::size_t width() const override {
        return magpie_table().properties.size() * kStats.size();
    }
    void featurize(const CompositionRow& row, std::span<float> out) const override {
        const auto f = fractions(row, name());
        const ElementTable& t = magpie_table();
        // The element with the largest fraction; ties keep every such element (mode takes the
        // smallest property among them).
        const double top = *std::max_element(f.begin(), f.end());
        for (std::size_t p = 0; p < t.properties.size(); ++p) {
            double lo = std::numeric_limits<double>::infinity();
            double hi = -lo;
            double mean = 0;
            double mode = std::numeric_limits<double>::infinity();
            for (std::size_t i = 0; i < row.size(); ++i) {
                const double v = t.values[static_cast<std::size_t>(row[i].first - 1)][p];
                lo = std::min(lo, v);
                hi = std::max(hi, v);
                mean += f[i] * v;
                if (f[i] >= top - 1e-12) mode = std::min(mode, v);
            }
            double dev = 0;
            for (std::size_t i = 0; i < row.size(); ++i)
                dev +=
                    f[i] * std::abs(t.values[static_cast<std::size_t>(row[i].first - 1)][p] - mean);
            const std::array<double, 6> s = {lo, hi, hi - lo, mean, dev, mode};
            for (std::size_t k = 0; k < s.size(); ++k)
                out[p * kStats.size() + k] = static_cast<float>(s[k]);
        }
    }
    [[nodiscard]] std::vector<std::string> feature_names() const override {
        std::vector<std::string> n;
        for (const auto& p : magpie_table().properties) {
            for (const char* s : kStats) n.push_back(std::string(s) + "_" + p);
        }
        return n;
    }
};

ElementTable parse_table(std::string_view csv) {
    ElementTable t;
    std::size_t line_no = 0;
    for (std::string_view rest = csv; !rest.empty();) {
        const std::size_t nl = rest.find('\n');
        const std::string_view line = trim(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        ++line_no;
        if (line.empty() || line.front() == '#') continue;
        std::vector<std::string_view> cells;
        for (std::string_view r = line;;) {
            const std::size_t comma = r.find(',');
            cells.push_back(r.substr(0, comma));
            if (comma == std::string_view::npos) break;
            r = r.substr(comma + 1);
        }
        // symbol, properties..., filled
        if (t.properties.empty()) {
            for (std::size_t c = 1; c + 1 < cells.size(); ++c) t.properties.emplace_back(cells[c]);
            continue;
        }
        if (cells.size() != t.properties.size() + 2)
            throw Error("magpie table line " + std::to_string(line_no) + ": " +
                        std::to_string(cells.size()) + " cells, expected " +
                        std::to_string(t.properties.size() + 2));
        t.symbols.emplace_back(cells[0]);
        std::vector<double> v;
        for (std::size_t c = 1; c + 1 < cells.size(); ++c) {
            double x = 0;
            const auto [p, ec] =
                std::from_chars(cells[c].data(), cells[c].data() + cells[c].size(), x);
            if (ec != std::errc() || p != cells[c].data() + cells[c].size() || !std::isfinite(x))
                throw Error("magpie table line " + std::to_string(line_no) + ": '" +
                            std::string(cells[c]) + "' is not a number");
            v.push_back(x);
        }
        t.values.push_back(std::move(v));
    }
    if (t.values.size() != static_cast<std::size_t>(kElements))
        throw Error("magpie table: " + std::to_string(t.values.size()) + " elements, expected 118");
    return t;
}

}  // namespace

const ElementTable& magpie_table() {
    static const ElementTable t = parse_table(kMagpieCsv);
    return t;
}

std::string element_symbol(int z) {
    if (z < 1 || z > kElements) return "Z" + std::to_string(z);
    return magpie_table().symbols[static_cast<std::size_t>(z - 1)];
}

const Featurizer& featurizer(std::string_view name) {
    static const std::map<std::string, std::unique_ptr<Featurizer>, std::less<>> all = [] {
        std::map<std::string, std::unique_ptr<Featurizer>, std::less<>> m;
        for (auto* f :
             std::initializer_list<Featurizer*>{new ElementFraction, new ElemNet86, new Magpie})
            m.emplace(std::string(f->name()), std::unique_ptr<Featurizer>(f));
        return m;
    }();
    const auto it = all.find(name);
    if (it == all.end()) {
        std::string known;
        for (const auto& [n, f] : all) known += (known.empty() ? "" : ", ") + n;
        throw UsageError("unknown featurizer '" + std::string(name) + "' (known: " + known + ")");
    }
    return *it->second;
}

std::vector<std::string> featurizer_names() { return {"element_fraction", "elemnet86", "magpie"}; }

}  // namespace kiln::infer
