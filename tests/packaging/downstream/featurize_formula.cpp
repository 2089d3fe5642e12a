// featurize_formula FORMULA FEATURIZER: the reduced formula, then the non-zero features.
#include <iostream>
#include <kiln/core/version.hpp>
#include <kiln/extract/composition.hpp>
#include <kiln/infer/featurizer.hpp>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: featurize_formula FORMULA FEATURIZER\n";
        return 64;
    }
    const kiln::extract::Composition c = kiln::extract::parse_formula(argv[1]);
    const kiln::infer::Featurizer& f = kiln::infer::featurizer(argv[2]);
    kiln::infer::CompositionRow row(c.amounts().begin(), c.amounts().end());
    std::vector<float> out(f.width());
    f.featurize(row, out);
    const std::vector<std::string> names = f.feature_names();
    std::cout << "kiln " << kiln::version() << " " << c.reduced().formula() << "\n";
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] != 0.0F) std::cout << names[i] << " " << out[i] << "\n";
    }
    return 0;
}
