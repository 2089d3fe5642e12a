// The backend interface: what kiln asks of a model runtime. LibTorch lives behind it in
// libkiln_torch.so, loaded with dlopen only by the commands that run models (ARCHITECTURE.md:
// linking LibTorch costs every process 1.5 s at start), the way Triton loads its backends.
// Nothing here includes LibTorch; errors thrown inside a backend arrive as std::exception.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace kiln::infer {

/// A row-major float32 matrix: `rows` rows of `cols` values.
struct Matrix {
    std::vector<float> values;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
};

/// One loaded model (a replica): its own module copy; not shared between threads.
class Model {
public:
    virtual ~Model() = default;
    /// Runs the model's forward on `input` (float32 rows × cols). The output must be a float32
    /// tensor of rank 1 or 2 with `input.rows` rows; rank 1 becomes one column. Throws
    /// std::exception (c10::Error from LibTorch) when the model rejects the input.
    [[nodiscard]] virtual Matrix run(const Matrix& input) = 0;
    /// Where it runs: "cpu", "cuda:0", ...
    [[nodiscard]] virtual std::string device() const { return "cpu"; }
};

/// How to train an ElemNet-style fully connected regression network.
struct TrainSpec {
    std::vector<int> hidden = {1024, 1024, 1024, 1024, 512, 512, 512, 256,
                               256,  256,  128,  128,  128, 64,  64,  32};
    double dropout = 0.2;  // after the last layer of each block of equal widths (ElemNet)
    double learning_rate = 1e-3;
    int batch_size = 64;
    int max_epochs = 200;
    int patience = 20;  // epochs without a better validation MAE before stopping
    std::uint64_t seed = 42;
    int threads = 1;
};

/// Features (x) and targets (y, one per row).
struct TrainSet {
    Matrix x;
    std::vector<float> y;
};

struct TrainReport {
    int epochs = 0;      // epochs run
    int best_epoch = 0;  // 1-based epoch whose weights were kept
    double train_mae = 0, validation_mae = 0, test_mae = 0;
    double seconds = 0;                    // whole training
    std::vector<double> epoch_seconds;     // per epoch (train pass + validation)
    std::vector<double> validation_curve;  // validation MAE per epoch
};

/// A model runtime, loaded from a shared library.
class Backend {
public:
    virtual ~Backend() = default;
    /// "torch".
    [[nodiscard]] virtual std::string name() const = 0;
    /// The runtime's version ("1.13.1").
    [[nodiscard]] virtual std::string version() const = 0;
    /// CUDA devices this runtime can use (0 for a CPU-only LibTorch).
    [[nodiscard]] virtual int cuda_devices() const = 0;
    /// Loads a TorchScript file for inference on `device` ("cpu", "cuda", "cuda:N") using
    /// `threads` intra-op threads. Throws std::exception when the file is not TorchScript.
    [[nodiscard]] virtual std::unique_ptr<Model> load(const std::filesystem::path& file,
                                                      const std::string& device, int threads) = 0;
    /// Trains on `train`, stops early on `validation`, reports MAE on all three sets, and
    /// saves the best network as TorchScript at `out` (with the feature standardisation of
    /// the training set inside, so it takes raw feature rows). Deterministic for a fixed
    /// seed on one thread.
    virtual TrainReport train(const TrainSpec& spec, const TrainSet& train,
                              const TrainSet& validation, const TrainSet& test,
                              const std::filesystem::path& out) = 0;
};

/// The device a rank's replicas use for --device `option`: "cpu"; "cuda:N" as given; "cuda"
/// the node-local rank modulo the visible devices (ranks of a node share its GPUs round
/// robin); "auto" that, or "cpu" without CUDA. ConfigError naming the option when CUDA is
/// asked for and there is none, or N is not a visible device.
[[nodiscard]] std::string choose_device(const std::string& option, int cuda_devices,
                                        int local_rank);
/// This process's rank on its node: OMPI_COMM_WORLD_LOCAL_RANK (Open MPI), MPI_LOCALRANKID
/// (MPICH), SLURM_LOCALID (srun), else 0.
[[nodiscard]] int node_local_rank();

/// Loads libkiln_NAME.so (found in $KILN_BACKEND_DIR, else beside the kiln executable, else
/// in ../lib/kiln from it) once per process. Throws ConfigError (exit 78) naming the places
/// searched and dlerror() when it cannot.
[[nodiscard]] Backend& load_backend(const std::string& name = "torch");

}  // namespace kiln::infer

/// The symbol every backend library exports.
extern "C" kiln::infer::Backend* kiln_backend_create();
