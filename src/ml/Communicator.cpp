// c10d + Gloo collectives for data-parallel training (ml/Communicator.hpp, docs/distributed.md).
#include "nurec/ml/Communicator.hpp"

#include <unistd.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "nurec/core/Error.hpp"
#include "nurec/ml/Net.hpp"

namespace nurec::ml {

namespace {

using namespace std::chrono_literals;

// Heartbeats: every rank adds 1 to its counter this often; a failure is diagnosed by watching the
// counters for kDiagnoseWindow (several periods, so that a live rank always advances).
constexpr auto kHeartbeatPeriod = 1000ms;
constexpr auto kDiagnoseWindow = 3500ms;

std::string aliveKey(int rank) {
  return "nurec/alive/" + std::to_string(rank);
}
std::string failedKey(int rank) {
  return "nurec/failed/" + std::to_string(rank);
}

std::string messageOf(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) {
    return firstLineOf(c->what_without_backtrace());
  }
  return firstLineOf(e.what());
}

bool isLoopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr == "localhost" || addr == "::1";
}

std::string secondsText(std::chrono::milliseconds t) {
  char b[32];
  std::snprintf(b, sizeof b, "%g s", static_cast<double>(t.count()) / 1000.0);
  return b;
}

}  // namespace

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store, heartbeatStore;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  std::thread heartbeat;
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;

  // Runs on its own store connection so that it never waits behind a collective.
  void beat(int rank) {
    std::unique_lock<std::mutex> lock(mutex);
    while (!stop) {
      lock.unlock();
      try {
        heartbeatStore->add(aliveKey(rank), 1);
      } catch (const std::exception&) {
        return;  // the store is gone (rank 0 exited): nothing left to report to
      }
      lock.lock();
      wake.wait_for(lock, kHeartbeatPeriod, [this] { return stop; });
    }
  }
  void stopHeartbeat() {
    {
      const std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    wake.notify_all();
  }
};

Communicator::Communicator(const DistributedEnv& env, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  env_.validate();
  const std::string where = env_.masterAddr + ":" + std::to_string(env_.masterPort);
  const std::string me =
      "train: rank " + std::to_string(rank()) + " of " + std::to_string(worldSize()) + ": ";
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(env_.masterPort);
  so.isServer = isRoot();
  so.numWorkers = static_cast<std::size_t>(worldSize());
  so.waitWorkers = true;
  so.timeout = timeout_;
  try {
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env_.masterAddr, so);
  } catch (const std::exception& e) {
    const std::string cause = messageOf(e);
    if (isRoot() && cause.find("Timed out waiting for clients") != std::string::npos) {
      throw Error(me + "not all " + std::to_string(worldSize()) +
                  " ranks joined the rendezvous at " + where + " within " + secondsText(timeout_) +
                  " (" + cause +
                  "): were all of them started (mpirun -np N, srun, one process per RANK)?");
    }
    throw Error(
        me +
        (isRoot() ? "cannot start the rendezvous store on port " + std::to_string(env_.masterPort) +
                        " (is another job using MASTER_PORT? choose another)"
                  : "cannot reach rank 0's rendezvous store at " + where + " within " +
                        secondsText(timeout_) + " (is rank 0 running, and MASTER_ADDR its host?)") +
        " (" + cause + ")");
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout_);
    // Loopback on one machine; elsewhere GLOO_SOCKET_IFNAME or the interface of the hostname.
    if (isLoopback(env_.masterAddr)) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME")) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    options->threads = 1;  // one collective at a time: the trainer waits for each
    impl_->group =
        c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, rank(), worldSize(), options);
    c10d::TCPStoreOptions ho;
    ho.port = so.port;
    ho.timeout = timeout_;
    ho.waitWorkers = false;
    impl_->heartbeatStore = c10::make_intrusive<c10d::TCPStore>(env_.masterAddr, ho);
  } catch (const std::exception& e) {
    failed_ = true;
    throw Error(me + "the Gloo group did not form within " + secondsText(timeout_) + " (" +
                messageOf(e) + ")");
  }
  impl_->heartbeat = std::thread([this] { impl_->beat(rank()); });
}

Communicator::~Communicator() {
  impl_->stopHeartbeat();
  if (failed_) {
    // A dead peer can make Gloo's teardown wait: the process is about to exit anyway.
    if (impl_->heartbeat.joinable()) impl_->heartbeat.detach();
    impl_->group.release();
    impl_->heartbeatStore.release();
    impl_->store.release();
    return;
  }
  if (impl_->heartbeat.joinable()) impl_->heartbeat.join();
}

void Communicator::fail(const std::string& what, const std::string& glooMessage) {
  failed_ = true;
  // Tell the others that this rank noticed the failure (it is alive, not the cause), then watch
  // the heartbeats: a rank whose counter stands still and that reported nothing has died.
  std::string who;
  try {
    impl_->store->set(failedKey(rank()), std::vector<std::uint8_t>{1});
    std::vector<std::int64_t> before(worldSize());
    for (int r = 0; r < worldSize(); ++r) before[r] = impl_->store->add(aliveKey(r), 0);
    std::this_thread::sleep_for(kDiagnoseWindow);
    std::vector<int> dead;
    for (int r = 0; r < worldSize(); ++r) {
      if (r == rank()) continue;
      const bool stood = impl_->store->add(aliveKey(r), 0) == before[r];
      if (stood && !impl_->store->check({failedKey(r)})) dead.push_back(r);
    }
    for (std::size_t i = 0; i < dead.size(); ++i) {
      who += (i == 0 ? "rank " : i + 1 == dead.size() ? " and " : ", ") + std::to_string(dead[i]);
    }
  } catch (const std::exception&) {
    // The store lives in rank 0: unreachable means rank 0 is gone.
    if (!isRoot()) who = "rank 0 (the host of the rendezvous store)";
  }
  if (who.empty()) who = "a peer rank";
  throw Error("train: rank " + std::to_string(rank()) + " of " + std::to_string(worldSize()) +
              ": " + what + " failed: " + who + " exited or did not answer within " +
              secondsText(timeout_) + " (" + glooMessage + ")");
}

void Communicator::bucketed(const std::vector<torch::Tensor>& tensors, const std::string& what,
                            const std::function<void(std::vector<torch::Tensor>&)>& collective) {
  if (failed_)
    throw Error("train: rank " + std::to_string(rank()) + ": " + what +
                " after an earlier collective failed");
  torch::NoGradGuard ng;
  std::size_t first = 0;
  while (first < tensors.size()) {
    // Consecutive tensors of one dtype up to kBucketBytes (at least one tensor per bucket).
    std::size_t last = first + 1;
    std::int64_t bytes = tensors[first].nbytes();
    while (last < tensors.size() && tensors[last].scalar_type() == tensors[first].scalar_type() &&
           bytes + static_cast<std::int64_t>(tensors[last].nbytes()) <= kBucketBytes) {
      bytes += tensors[last].nbytes();
      ++last;
    }
    std::vector<torch::Tensor> parts;
    for (std::size_t i = first; i < last; ++i) parts.push_back(tensors[i].reshape({-1}));
    std::vector<torch::Tensor> flat{torch::cat(parts)};
    try {
      collective(flat);
    } catch (const std::exception& e) {
      fail(what, messageOf(e));
    }
    std::int64_t offset = 0;
    for (std::size_t i = first; i < last; ++i) {
      const std::int64_t n = tensors[i].numel();
      tensors[i].copy_(flat[0].narrow(0, offset, n).view_as(tensors[i]));
      offset += n;
    }
    first = last;
  }
}

void Communicator::allreduceSum(const std::vector<torch::Tensor>& tensors,
                                const std::string& what) {
  bucketed(tensors, what, [this](std::vector<torch::Tensor>& flat) {
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    impl_->group->allreduce(flat, o)->wait();
  });
}

void Communicator::broadcastFromRoot(const std::vector<torch::Tensor>& tensors,
                                     const std::string& what) {
  bucketed(tensors, what, [this](std::vector<torch::Tensor>& flat) {
    c10d::BroadcastOptions o;
    o.rootRank = 0;
    impl_->group->broadcast(flat, o)->wait();
  });
}

void Communicator::barrier(const std::string& what) {
  if (failed_)
    throw Error("train: rank " + std::to_string(rank()) + ": " + what +
                " after an earlier collective failed");
  try {
    impl_->group->barrier()->wait();
  } catch (const std::exception& e) {
    fail(what, messageOf(e));
  }
}

bool Communicator::broadcastFlag(bool flag, const std::string& what) {
  const torch::Tensor t = torch::tensor({flag ? 1 : 0}, torch::kInt32);
  broadcastFromRoot({t}, what);
  return t.item<int>() != 0;
}

void Communicator::runOnRoot(const std::string& what, const std::function<void()>& fn) {
  std::exception_ptr error;
  if (isRoot()) {
    try {
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  }
  if (broadcastFlag(error != nullptr, "the result of " + what + " on rank 0")) {
    if (error) std::rethrow_exception(error);
    throw Error("train: rank " + std::to_string(rank()) + " of " + std::to_string(worldSize()) +
                ": rank 0 failed while " + what + " (its message says why)");
  }
}

}  // namespace nurec::ml
