# Spack recipe for kiln. Use it from a local repository:
#     spack repo create ~/spack-kiln && cp -r scripts/packaging/spack/kiln ~/spack-kiln/packages/
#     spack repo add ~/spack-kiln
#     spack install kiln +torch          # CPU
#     spack install kiln +torch +cuda cuda_arch=90
# The source comes from a local clone (no download): spack dev-build, or set `git` below to
# your site's mirror of the repository.
from spack.package import *


class Kiln(CMakePackage, CudaPackage):
    """Materials data ingest, search and batched model inference in one MPI job: MPI ranks
    pack file trees into HDF5 shards with MDF-style metadata and a search index; GPU ranks
    run LibTorch model replicas over whole datasets with batching and a result cache."""

    homepage = "https://example.org/kiln"
    git = "file:///path/to/kiln.git"  # your clone or site mirror

    maintainers("kiln-developers")
    license("Apache-2.0")

    version("main", branch="main")

    variant("torch", default=True, description="Build the LibTorch backend (kiln train/run/infer)")
    variant("tests", default=False, description="Build the GoogleTest suite and benchmarks")

    depends_on("cmake@3.20:", type="build")
    depends_on("ninja", type="build")
    depends_on("pkgconfig", type="build")
    depends_on("mpi")
    # Serial or parallel HDF5 both work: each file is written by one rank.
    depends_on("hdf5@1.10:")
    depends_on("boost@1.71: +program_options")
    depends_on("nlohmann-json@3.9:")
    depends_on("libarchive")
    depends_on("croaring")
    depends_on("simdjson")
    depends_on("xxhash")
    depends_on("file")  # libmagic
    depends_on("spglib")
    depends_on("pugixml")
    depends_on("libyaml")
    depends_on("stb")
    depends_on("gemmi")
    depends_on("openssl")
    # LibTorch: from py-torch's installation (its share/cmake/Torch), CUDA-enabled with +cuda.
    depends_on("py-torch", when="+torch")
    depends_on("py-torch+cuda", when="+torch+cuda")
    depends_on("googletest", when="+tests", type="build")
    depends_on("benchmark", when="+tests", type="build")

    generator("ninja")

    def cmake_args(self):
        args = [
            self.define_from_variant("KILN_ENABLE_TORCH", "torch"),
            self.define_from_variant("KILN_ENABLE_CUDA", "cuda"),
            self.define_from_variant("KILN_BUILD_TESTS", "tests"),
            self.define_from_variant("KILN_BUILD_BENCHMARKS", "tests"),
        ]
        if self.spec.satisfies("+torch"):
            torch_cmake = join_path(self.spec["py-torch"].package.cmake_prefix_paths[0], "Torch")
            args.append(self.define("Torch_DIR", torch_cmake))
        if self.spec.satisfies("+cuda"):
            archs = self.spec.variants["cuda_arch"].value
            if archs and archs[0] != "none":
                args.append(self.define("CMAKE_CUDA_ARCHITECTURES", ";".join(archs)))
        return args

    def setup_run_environment(self, env):
        env.set("KILN_BACKEND_DIR", self.prefix.lib.kiln)
        env.set("KILN_JOBS", self.prefix.share.kiln.jobs)
