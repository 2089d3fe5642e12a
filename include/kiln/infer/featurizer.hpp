// Featurizers: pure functions from a composition row to a float row, registered by name.
// The model's servable.json names the one that built its training inputs, so inference
// featurizes records the same way.
//
//   element_fraction  118 values: the atomic fraction of element Z at index Z-1 (H..Og).
//   elemnet86         86 values: atomic fractions of Z = 1..94 without He, Ne, Ar, Po, At, Rn,
//                     Fr, Ra, in order of Z (ElemNet, Jha et al., Sci. Rep. 8, 17593 (2018)).
//                     An element outside those 86 is an error.
//   magpie            132 values: for each of 22 element properties of data/magpie_elements.csv
//                     (its column order), six statistics over the composition in this order:
//                     minimum, maximum, range, mean, avg_dev, mode (Ward et al. 2016; matminer's
//                     ElementProperty "magpie" preset). Weights are atomic fractions; mean =
//                     sum f_i p_i; avg_dev = sum f_i |p_i - mean|; mode = the property of the
//                     element with the largest fraction, the smallest such value on a tie.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::infer {

/// (atomic number, amount) pairs, as the extractors count a composition; amounts > 0.
using CompositionRow = std::vector<std::pair<int, double>>;

class Featurizer {
public:
    virtual ~Featurizer() = default;
    [[nodiscard]] virtual std::string_view name() const = 0;
    [[nodiscard]] virtual std::size_t width() const = 0;
    /// Writes width() values for `row` into `out` (out.size() == width()). Throws DataError
    /// naming the element or value when the row cannot be featurized (empty, an amount that
    /// is not finite and positive, an element the featurizer does not cover).
    virtual void featurize(const CompositionRow& row, std::span<float> out) const = 0;
    /// One name per output column ("frac_Fe", "mean_MeltingT").
    [[nodiscard]] virtual std::vector<std::string> feature_names() const = 0;
};

/// The featurizer called `name`; UsageError listing the known names when there is none.
[[nodiscard]] const Featurizer& featurizer(std::string_view name);
[[nodiscard]] std::vector<std::string> featurizer_names();

/// Element symbol of atomic number z (1..118), "Z<z>" outside.
[[nodiscard]] std::string element_symbol(int z);

/// The magpie property table: 118 rows (Z = 1..118) of 22 properties.
struct ElementTable {
    std::vector<std::string> properties;      // column names, in feature order
    std::vector<std::string> symbols;         // by Z-1
    std::vector<std::vector<double>> values;  // [Z-1][property]
};
[[nodiscard]] const ElementTable& magpie_table();

}  // namespace kiln::infer
