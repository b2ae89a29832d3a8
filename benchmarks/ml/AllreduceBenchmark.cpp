// ddp_allreduce: time of one gradient all-reduce of a config's network (parameter count x 4 bytes,
// in the trainer's buckets) over the ranks of a data-parallel job (docs/distributed.md cost model).
// Run under a launcher: mpirun -np 2 build/benchmarks/ml/ddp_allreduce --config <card>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "nurec/core/Error.hpp"
#include "nurec/ml/Communicator.hpp"
#include "nurec/ml/Net.hpp"

int main(int argc, char** argv) {
  using namespace nurec::ml;
  CLI::App app{"Times the gradient all-reduce of data-parallel training"};
  std::string config;
  int repeats = 50;
  app.add_option("--config", config, "Run card of the network")->required();
  app.add_option("--repeats", repeats, "All-reduces timed");
  CLI11_PARSE(app, argc, argv);
  try {
    at::set_num_threads(1);
    const DiffusionConfig c = DiffusionConfig::fromFile(config);
    DiffusionNet net = makeNet(c);
    std::vector<torch::Tensor> grads;
    std::int64_t count = 0;
    for (const auto& p : net->parameters()) {
      grads.push_back(torch::ones_like(p));
      count += p.numel();
    }
    Communicator comm(discoverDistributedEnv(), std::chrono::seconds(60));
    comm.allreduceSum(grads, "warm-up all-reduce");
    comm.barrier("barrier");
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < repeats; ++i) comm.allreduceSum(grads, "all-reduce");
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (comm.isRoot()) {
      std::printf("%s: %lld parameters (%.2f MB), %d ranks: %.3f ms per all-reduce\n",
                  config.c_str(), static_cast<long long>(count), count * 4 / 1e6, comm.worldSize(),
                  1e3 * s / repeats);
    }
    comm.barrier("final barrier");
    return 0;
  } catch (const nurec::Error& e) {
    std::fprintf(stderr, "ddp_allreduce: error: %s\n", e.what());
    return 1;
  }
}
