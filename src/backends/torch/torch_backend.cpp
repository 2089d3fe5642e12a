// libkiln_torch.so: kiln's backend on LibTorch, the only code that includes it. Loaded with
// dlopen by the commands that run models (see kiln/infer/backend.hpp). Inference runs a
// TorchScript module under torch::InferenceMode; training builds an ElemNet-style network as
// a TorchScript module from source, so what it saves is plain TorchScript that Python's
// torch.jit.load reads without kiln.
#include <torch/script.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

#include "kiln/infer/backend.hpp"

namespace kiln::infer {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

torch::Tensor as_tensor(const Matrix& m) {
    // from_blob does not copy; callers use the tensor while `m` lives.
    return torch::from_blob(const_cast<float*>(m.values.data()), {m.rows, m.cols}, torch::kFloat32);
}

class TorchModel final : public Model {
public:
    TorchModel(torch::jit::Module module, torch::Device device)
        : module_(std::move(module)), device_(device) {}

    Matrix run(const Matrix& input) override {
        const torch::InferenceMode guard;
        const torch::Tensor x = as_tensor(input).to(device_);
        const torch::jit::IValue result = module_.forward({x});
        if (!result.isTensor()) throw std::runtime_error("the model's output is not a tensor");
        torch::Tensor y = result.toTensor();
        if (!y.is_floating_point()) {
            throw std::runtime_error("the model's output has dtype " +
                                     std::string(c10::toString(y.scalar_type())) +
                                     ", expected a floating-point tensor");
        }
        if (y.dim() == 1) y = y.unsqueeze(1);
        if (y.dim() != 2 || y.size(0) != input.rows) {
            std::ostringstream os;
            os << "the model's output has shape " << y.sizes() << " for " << input.rows
               << " input rows, expected (" << input.rows << ", k)";
            throw std::runtime_error(os.str());
        }
        y = y.to(torch::kCPU, torch::kFloat32).contiguous();
        Matrix out;
        out.rows = y.size(0);
        out.cols = y.size(1);
        out.values.assign(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
        return out;
    }

    std::string device() const override { return device_.str(); }

private:
    torch::jit::Module module_;
    torch::Device device_;
};

// The network as TorchScript source: standardise, then Linear+ReLU layers with dropout after
// the last layer of each block of equal widths, then a Linear to one output.
std::string network_source(const std::vector<int>& hidden, double dropout) {
    std::ostringstream src;
    src << "def forward(self, x):\n"
        << "    x = (x - self.mean) / self.scale\n";
    for (std::size_t i = 0; i < hidden.size(); ++i) {
        src << "    x = torch.relu(torch.addmm(self.b" << i << ", x, self.w" << i << ".t()))\n";
        const bool block_end = i + 1 == hidden.size() || hidden[i + 1] != hidden[i];
        if (dropout > 0 && block_end)
            src << "    x = torch.dropout(x, " << dropout << ", self.training)\n";
    }
    const std::size_t last = hidden.size();
    src << "    return torch.addmm(self.b" << last << ", x, self.w" << last << ".t())\n";
    return src.str();
}

// The network's tensors. Training runs the forward below in eager ATen (the TorchScript
// interpreter would cost ~10x per step); the saved module runs the same operations from the
// source of network_source().
struct Network {
    torch::Tensor mean, scale;
    std::vector<torch::Tensor> weights, biases;  // hidden layers, then the output layer
    std::vector<bool> dropout_after;             // per hidden layer
    double dropout = 0;

    Network(const TrainSpec& spec, const TrainSet& train) : dropout(spec.dropout) {
        const torch::Tensor x = as_tensor(train.x);
        mean = x.mean(0);
        scale = x.std(0, /*unbiased=*/false);
        scale = torch::where(scale > 1e-12, scale, torch::ones_like(scale));  // constant column
        // PyTorch's nn.Linear initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        std::int64_t fan_in = train.x.cols;
        std::vector<int> widths = spec.hidden;
        widths.push_back(1);
        for (const int w : widths) {
            const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
            weights.push_back(((torch::rand({w, fan_in}) * 2 - 1) * bound).requires_grad_(true));
            biases.push_back(((torch::rand({w}) * 2 - 1) * bound).requires_grad_(true));
            fan_in = w;
        }
        for (std::size_t i = 0; i < spec.hidden.size(); ++i)
            dropout_after.push_back(spec.dropout > 0 && (i + 1 == spec.hidden.size() ||
                                                         spec.hidden[i + 1] != spec.hidden[i]));
    }

    [[nodiscard]] std::vector<torch::Tensor> parameters() const {
        std::vector<torch::Tensor> p;
        for (std::size_t i = 0; i < weights.size(); ++i) {
            p.push_back(weights[i]);
            p.push_back(biases[i]);
        }
        return p;
    }

    [[nodiscard]] torch::Tensor forward(torch::Tensor x, bool training) const {
        x = (x - mean) / scale;
        for (std::size_t i = 0; i + 1 < weights.size(); ++i) {
            x = torch::relu(torch::addmm(biases[i], x, weights[i].t()));
            if (dropout_after[i]) x = torch::dropout(x, dropout, training);
        }
        return torch::addmm(biases.back(), x, weights.back().t()).squeeze(1);
    }

    // The TorchScript module with these tensors: what `kiln run`, `kiln infer` and Python load.
    [[nodiscard]] torch::jit::Module to_torchscript(const TrainSpec& spec) const {
        torch::jit::Module net("ElemNet");
        net.register_attribute("training", c10::BoolType::get(), false);
        net.register_buffer("mean", mean.clone());
        net.register_buffer("scale", scale.clone());
        for (std::size_t i = 0; i < weights.size(); ++i) {
            net.register_parameter("w" + std::to_string(i), weights[i].detach().clone(), false);
            net.register_parameter("b" + std::to_string(i), biases[i].detach().clone(), false);
        }
        net.define(network_source(spec.hidden, spec.dropout));
        net.eval();
        return net;
    }
};

double mean_absolute_error(const Network& net, const TrainSet& set) {
    if (set.y.empty()) return 0;
    const torch::NoGradGuard no_grad;
    const torch::Tensor pred = net.forward(as_tensor(set.x), false);
    const torch::Tensor y =
        torch::from_blob(const_cast<float*>(set.y.data()),
                         {static_cast<std::int64_t>(set.y.size())}, torch::kFloat32);
    return (pred - y).abs().mean().item<double>();
}

class TorchBackend final : public Backend {
public:
    [[nodiscard]] std::string name() const override { return "torch"; }
    [[nodiscard]] std::string version() const override { return TORCH_VERSION; }
    [[nodiscard]] int cuda_devices() const override {
        return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
    }

    std::unique_ptr<Model> load(const std::filesystem::path& file, const std::string& device,
                                int threads) override {
        if (threads > 0) at::set_num_threads(threads);
        const torch::Device dev(device);
        torch::jit::Module module = torch::jit::load(file.string(), dev);
        module.eval();
        return std::make_unique<TorchModel>(std::move(module), dev);
    }

    TrainReport train(const TrainSpec& spec, const TrainSet& train, const TrainSet& validation,
                      const TrainSet& test, const std::filesystem::path& out) override {
        if (train.y.empty()) throw std::runtime_error("no training rows");
        if (spec.threads > 0) at::set_num_threads(spec.threads);
        torch::manual_seed(spec.seed);
        const auto t0 = Clock::now();
        Network net(spec, train);
        const std::vector<torch::Tensor> params = net.parameters();
        torch::optim::Adam adam(params, torch::optim::AdamOptions(spec.learning_rate));

        const torch::Tensor x = as_tensor(train.x);
        const torch::Tensor y =
            torch::from_blob(const_cast<float*>(train.y.data()),
                             {static_cast<std::int64_t>(train.y.size())}, torch::kFloat32);
        std::vector<std::int64_t> order(train.y.size());
        std::iota(order.begin(), order.end(), 0);
        std::mt19937_64 rng(spec.seed);

        TrainReport report;
        double best = std::numeric_limits<double>::infinity();
        std::vector<torch::Tensor> best_params;
        int stale = 0;
        for (int epoch = 1; epoch <= spec.max_epochs; ++epoch) {
            const auto e0 = Clock::now();
            std::shuffle(order.begin(), order.end(), rng);
            const auto n = static_cast<std::int64_t>(order.size());
            for (std::int64_t begin = 0; begin < n; begin += spec.batch_size) {
                const std::int64_t end = std::min<std::int64_t>(n, begin + spec.batch_size);
                const torch::Tensor idx =
                    torch::from_blob(order.data() + begin, {end - begin}, torch::kInt64);
                const torch::Tensor pred = net.forward(x.index_select(0, idx), true);
                const torch::Tensor loss = (pred - y.index_select(0, idx)).abs().mean();
                adam.zero_grad();
                loss.backward();
                adam.step();
            }
            const double val = mean_absolute_error(net, validation.y.empty() ? train : validation);
            report.validation_curve.push_back(val);
            report.epoch_seconds.push_back(seconds_since(e0));
            report.epochs = epoch;
            if (val < best) {
                best = val;
                report.best_epoch = epoch;
                best_params.clear();
                for (const auto& p : params) best_params.push_back(p.detach().clone());
                stale = 0;
            } else if (++stale >= spec.patience) {
                break;
            }
        }
        {
            const torch::NoGradGuard no_grad;
            for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best_params[i]);
        }
        report.train_mae = mean_absolute_error(net, train);
        report.validation_mae = mean_absolute_error(net, validation);
        report.test_mae = mean_absolute_error(net, test);
        net.to_torchscript(spec).save(out.string());
        report.seconds = seconds_since(t0);
        return report;
    }
};

}  // namespace
}  // namespace kiln::infer

extern "C" kiln::infer::Backend* kiln_backend_create() {
    static kiln::infer::TorchBackend backend;
    return &backend;
}
