// kiln-hdf5-reader: reads an HDF5 file on standard input and prints its tree as one JSON
// object, {"hdf5": {...}} or {"error": "..."}; exit 0 either way. kiln's HDF5 extractor runs
// it so that a crash of the HDF5 library on a crafted file cannot take kiln down. A CPU limit
// stops a file that would make HDF5 loop.
#include <sys/resource.h>

#include <iostream>
#include <iterator>
#include <string>

#include "extract/hdf5_tree.hpp"
#include "kiln/core/error.hpp"

int main() {
    const rlimit cpu{120, 120};  // seconds; SIGXCPU past it, which kiln reports
    setrlimit(RLIMIT_CPU, &cpu);
    std::ios::sync_with_stdio(false);
    const std::string bytes{std::istreambuf_iterator<char>(std::cin),
                            std::istreambuf_iterator<char>()};
    nlohmann::json out;
    try {
        out["hdf5"] = kiln::extract::read_hdf5_tree(bytes);
    } catch (const kiln::DataError& e) {
        out["error"] = e.what();
    }
    std::cout << out.dump() << "\n";
    return std::cout.good() ? 0 : 1;
}
