#pragma once
// Where a process stands in a data-parallel `nurec train` job (docs/distributed.md), read from the
// environment that the launcher sets. Torch-free, so that the command line can ask for the rank
// (only rank 0 takes the output lock and prints) before anything heavy is loaded.
//
// Contract:
// - Launchers, first match wins: plain variables RANK + WORLD_SIZE (as torchrun sets them, or by
//   hand); Open MPI's mpirun, OMPI_COMM_WORLD_RANK + OMPI_COMM_WORLD_SIZE; Slurm's srun,
//   SLURM_PROCID + SLURM_NTASKS. None of them: a single process (rank 0 of 1).
// - MASTER_ADDR / MASTER_PORT name rank 0's rendezvous store; they default to 127.0.0.1 and 29500,
//   which is right for every rank on one machine. A multi-node job must set MASTER_ADDR to rank
//   0's host (and the same MASTER_PORT on all ranks).
// - Inconsistent values (a rank outside [0, world size), a non-numeric or negative number, a rank
//   without its world size, a port outside 1..65535) are a ConfigError naming the variable.
#include <functional>
#include <string>

namespace nurec::ml {

struct DistributedEnv {
  int rank = 0, worldSize = 1;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  std::string launcher = "single process";  // "environment", "mpirun", "srun" or "single process"

  bool distributed() const { return worldSize > 1; }
  bool isRoot() const { return rank == 0; }
  // ConfigError when the rank, world size or port are out of range.
  void validate() const;
  // "2 ranks (mpirun, master 127.0.0.1:29500, Gloo)" for the start-up line.
  std::string describe() const;
};

// Looks a variable up: nullptr when unset. The default reads the process environment.
using EnvLookup = std::function<const char*(const char*)>;

// The launcher's rank and world size and the rendezvous address (see the contract above);
// validated.
DistributedEnv discoverDistributedEnv(const EnvLookup& lookup = nullptr);

}  // namespace nurec::ml
