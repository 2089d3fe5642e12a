#!/usr/bin/env bash
# Installs everything kiln needs to build, test and run on Debian 12, from Debian's packages
# only. Safe to run again; installs nothing that is already there.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # libraries kiln links
  libopenmpi-dev openmpi-bin           # MPI (Open MPI 4.1)
  libhdf5-dev hdf5-tools               # HDF5 (serial build; parallel also works)
  libboost-program-options-dev         # command line and INI job files
  nlohmann-json3-dev                   # JSON
  libxxhash-dev                        # xxh3 checksums
  libmagic-dev libmagic-mgc            # MIME type and description of files
  libarchive-dev                       # tar / zip / gz members
  libgtest-dev libgmock-dev            # tests
  clang libclang-rt-14-dev clang-format # libFuzzer harnesses, formatting check
  libbenchmark-dev                     # micro-benchmarks
  # references and data used by tests, demo and benchmarks
  python3 python3-h5py python3-numpy python3-xxhash
  pymatgen-test-files                  # real materials files (CIF, VASP, XYZ, JSON, ...)
  quantum-espresso-data                # real pw.x outputs (QE's example references), for the espresso extractor
  python-tables-data                   # real HDF5 files (PyTables' test files), for the HDF5 extractor
  python3-pymatgen python3-ase python3-pil  # reference readers for the differential tests
  gemmi-dev tao-pegtl-dev libstb-dev   # CIF (gemmi is header-only; needs PEGTL and stb)
  libsymspg-dev                        # spglib: space groups
  libpugixml-dev                       # XML: vasprun.xml
  libtiff-dev                          # TIFF image headers (stb_image reads no TIFF)
  libyaml-dev python3-yaml             # YAML files (libyaml, and PyYAML, which uses it, as the reference)
  libroaring-dev                       # CRoaring: compressed bitmaps for the search index
  libsimdjson-dev                      # simdjson: fast JSON reading for the index build
  libtorch-dev                         # LibTorch 1.13 (CPU): the model backend libkiln_torch.so
  libopenblas0-pthread                 # BLAS for LibTorch (the reference libblas is ~5x slower)
  libssl-dev                           # OpenSSL: sha256 of published models
  python3-torch python3-jsonschema     # references: Python's torch on the same models, schema checks
  time bc bsdextrautils                # /usr/bin/time (peak memory), bc and column for benchmarks
  python3-matplotlib                   # benchmarks/scale_replicas.sh's plot
  slurmctld slurmd slurm-client munge  # a real one-node Slurm cluster for the `slurm` tests
  lmod                                 # the modulefile of scripts/packaging, loaded by a test
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: these Debian packages are missing: ${missing[*]}" >&2
  echo "setup: run as root (or: sudo $0), or ask your administrator to install them." >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
