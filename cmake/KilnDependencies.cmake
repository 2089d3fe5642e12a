# Every dependency comes from the system (Debian packages here, modules or Spack on a cluster).
# Nothing is downloaded at build time.
include(KilnLibraryDependencies)  # also installed: find_package(kiln) runs it again
find_package(Boost 1.71 REQUIRED COMPONENTS program_options)  # the CLI only
find_path(GEMMI_INCLUDE_DIR gemmi/cif.hpp REQUIRED)  # header-only (Debian gemmi-dev)

# LibTorch (Debian's libtorch-dev, CPU; or a CUDA LibTorch via Torch_DIR) builds only the
# backend library libkiln_torch.so; nothing else links it (ARCHITECTURE.md: start-up cost).
if(KILN_ENABLE_TORCH)
  find_package(Torch REQUIRED)
endif()
