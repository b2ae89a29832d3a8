// Discovery of the data-parallel job a process belongs to (ml/Distributed.hpp,
// docs/distributed.md).
#include "nurec/ml/Distributed.hpp"

#include <cstdlib>

#include "nurec/core/Error.hpp"

namespace nurec::ml {

namespace {

// A whole non-negative decimal number, or ConfigError naming the variable.
int parseCount(const char* name, const char* text) {
  const std::string s = text;
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9) {
    throw ConfigError("train: environment variable " + std::string(name) + "='" +
                      printableExcerpt(s) + "' is not a non-negative whole number");
  }
  return std::atoi(s.c_str());
}

struct LauncherVars {
  const char* rank;
  const char* size;
  const char* name;
};

// The variables each launcher sets, in the order they are tried.
constexpr LauncherVars kLaunchers[] = {
    {"RANK", "WORLD_SIZE", "environment"},
    {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "mpirun"},
    {"SLURM_PROCID", "SLURM_NTASKS", "srun"},
};

}  // namespace

void DistributedEnv::validate() const {
  require(worldSize >= 1,
          "train: the world size must be at least 1 (got " + std::to_string(worldSize) + ")");
  require(rank >= 0 && rank < worldSize, "train: rank " + std::to_string(rank) +
                                             " is outside [0, " + std::to_string(worldSize) +
                                             ") for a world size of " + std::to_string(worldSize));
  require(masterPort >= 1 && masterPort <= 65535,
          "train: MASTER_PORT must be in [1, 65535] (got " + std::to_string(masterPort) + ")");
  require(!masterAddr.empty(), "train: MASTER_ADDR is empty");
}

std::string DistributedEnv::describe() const {
  return std::to_string(worldSize) + " ranks (" + launcher + ", master " + masterAddr + ":" +
         std::to_string(masterPort) + ", Gloo)";
}

DistributedEnv discoverDistributedEnv(const EnvLookup& lookup) {
  const EnvLookup get = lookup ? lookup : [](const char* name) { return std::getenv(name); };
  DistributedEnv env;
  for (const LauncherVars& l : kLaunchers) {
    const char* rank = get(l.rank);
    const char* size = get(l.size);
    if (rank == nullptr && size == nullptr) continue;
    if (rank == nullptr || size == nullptr) {
      throw ConfigError("train: " + std::string(rank ? l.rank : l.size) + " is set but " +
                        (rank ? l.size : l.rank) +
                        " is not: a data-parallel run needs both (docs/distributed.md)");
    }
    env.rank = parseCount(l.rank, rank);
    env.worldSize = parseCount(l.size, size);
    env.launcher = l.name;
    if (env.worldSize < 1) {
      throw ConfigError("train: " + std::string(l.size) + "=" + size + " must be at least 1");
    }
    if (env.rank >= env.worldSize) {
      throw ConfigError("train: " + std::string(l.rank) + "=" + rank + " is not below " + l.size +
                        "=" + size);
    }
    break;
  }
  if (const char* addr = get("MASTER_ADDR")) {
    env.masterAddr = addr;
    if (env.masterAddr.empty()) throw ConfigError("train: MASTER_ADDR is set but empty");
  }
  if (const char* port = get("MASTER_PORT")) {
    env.masterPort = parseCount("MASTER_PORT", port);
    if (env.masterPort < 1 || env.masterPort > 65535) {
      throw ConfigError("train: MASTER_PORT=" + std::string(port) + " is not in [1, 65535]");
    }
  }
  env.validate();
  return env;
}

}  // namespace nurec::ml
