# What kiln's module libraries link: found by kiln's own build (KilnDependencies.cmake) and
# again by a downstream project's find_package(kiln) (kilnConfig.cmake), so both see the
# same imported targets. Everything comes from the system (Debian packages, modules, Spack).
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(nlohmann_json 3.9 REQUIRED)
find_package(LibArchive REQUIRED)
find_package(ZLIB REQUIRED)  # zlib: the head of a gzip stream cut short (format by content)
find_package(roaring REQUIRED)  # CRoaring (libroaring-dev): index postings
find_package(simdjson REQUIRED)  # simdjson (libsimdjson-dev): reading records to index them
find_package(PkgConfig REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(MAGIC REQUIRED IMPORTED_TARGET libmagic)
pkg_check_modules(SPGLIB REQUIRED IMPORTED_TARGET spglib)
pkg_check_modules(PUGIXML REQUIRED IMPORTED_TARGET pugixml)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)  # libyaml: YAML files
pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)  # stb_image (image headers)
pkg_check_modules(TIFF REQUIRED IMPORTED_TARGET libtiff-4)  # libtiff: TIFF image headers

# HDF5's FindHDF5 gives plain variables on some CMake versions; wrap them once in a target.
if(NOT TARGET HDF5::HDF5)
  add_library(HDF5::HDF5 INTERFACE IMPORTED)
  target_include_directories(HDF5::HDF5 INTERFACE ${HDF5_INCLUDE_DIRS})
  target_link_libraries(HDF5::HDF5 INTERFACE ${HDF5_LIBRARIES})
  target_compile_definitions(HDF5::HDF5 INTERFACE ${HDF5_DEFINITIONS})
endif()
set(KILN_HDF5_IS_PARALLEL ${HDF5_IS_PARALLEL})

find_package(OpenSSL REQUIRED COMPONENTS Crypto)  # sha256 digests of published models
