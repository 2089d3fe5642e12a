#include <iostream>

#include "cli/commands.hpp"
#include "kiln/core/version.hpp"
#include "kiln/mpi/comm.hpp"
#include "kiln/store/catalog.hpp"

namespace kiln::cli {

void print_version() {
    std::cout << "kiln " << version() << " (git " << git_hash() << ")\n"
              << "MPI:      " << mpi::library_version() << "\n"
              << "HDF5:     " << store::hdf5_version()
              << (store::hdf5_is_parallel() ? " (parallel)" : " (serial)") << "\n"
              << "LibTorch: not built (KILN_ENABLE_TORCH=OFF)\n"
              << "CUDA:     no (KILN_ENABLE_CUDA=OFF)\n";
}

}  // namespace kiln::cli
