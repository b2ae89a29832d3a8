#pragma once
// The collectives of data-parallel training (docs/distributed.md) on LibTorch's c10d engine with
// the Gloo backend, the engine of PyTorch's DistributedDataParallel: a TCPStore for the rendezvous
// (rank 0 is its server) and a ProcessGroupGloo for all-reduce, broadcast and barrier.
//
// Contract:
// - Every rank must call the same collectives in the same order with tensors of the same shapes;
//   the trainer keeps control flow identical on all ranks for this reason.
// - No call hangs: the rendezvous and every collective give up after `timeout`, and a peer that
//   exits is noticed at once (its sockets close). Either is a nurec::Error
//   "train: rank R of N: <what> failed: <which rank> exited or did not answer within T s (<Gloo's
//   message>)". The rank that died is named from per-rank heartbeat counters in the store when
//   they allow it (a rank whose counter stopped and that did not report an error of its own).
// - After a failure the object is unusable; its destructor then leaks the Gloo group on purpose
//   rather than risk waiting on a dead peer at exit.
//
// Only src/ml includes this header; the c10d and Gloo headers stay inside Communicator.cpp.
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nurec/ml/Distributed.hpp"

namespace nurec::ml {

class Communicator {
 public:
  // Joins the group of env.worldSize ranks (rendezvous at env.masterAddr:masterPort). Throws
  // nurec::Error naming the address when the store cannot be started or reached or when not all
  // ranks join within the timeout.
  Communicator(const DistributedEnv& env, std::chrono::milliseconds timeout);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return env_.rank; }
  int worldSize() const { return env_.worldSize; }
  bool isRoot() const { return env_.rank == 0; }
  const DistributedEnv& env() const { return env_; }

  // Sums the tensors over all ranks, in place. Tensors are flattened into buckets of at most
  // kBucketBytes (one all-reduce per bucket, as DistributedDataParallel does); consecutive tensors
  // of one dtype share a bucket. `what` names the collective in error messages.
  void allreduceSum(const std::vector<torch::Tensor>& tensors, const std::string& what);
  // Overwrites the tensors of every rank with rank 0's (bucketed like allreduceSum).
  void broadcastFromRoot(const std::vector<torch::Tensor>& tensors, const std::string& what);
  void barrier(const std::string& what);
  // Runs fn on rank 0 only (file writes); the others wait for it. A failure of fn is rethrown on
  // rank 0 and becomes a nurec::Error "rank 0 failed while <what>" on the others, so that every
  // rank stops instead of waiting for a collective that never comes.
  void runOnRoot(const std::string& what, const std::function<void()>& fn);
  // Rank 0's value of `flag` on every rank (decisions only rank 0 can take, e.g. "a checkpoint
  // exists" when --out is on rank 0's disk).
  bool broadcastFlag(bool flag, const std::string& what);

  static constexpr std::int64_t kBucketBytes = 25 << 20;  // DistributedDataParallel's default

 private:
  struct Impl;
  DistributedEnv env_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Impl> impl_;
  bool failed_ = false;

  // Throws the error of a failed collective after naming the peer that died if possible.
  [[noreturn]] void fail(const std::string& what, const std::string& glooMessage);
  void bucketed(const std::vector<torch::Tensor>& tensors, const std::string& what,
                const std::function<void(std::vector<torch::Tensor>&)>& collective);
};

}  // namespace nurec::ml
