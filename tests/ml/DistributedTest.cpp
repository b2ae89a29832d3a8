// Data-parallel training (ml/Distributed.hpp, ml/Communicator.hpp, docs/distributed.md): discovery
// of rank and world size from each launcher's variables, and `nurec train` run as two processes on
// this machine: the loss curve equals one process's, rank 1 writes nothing, a killed or stopped
// rank ends the job with an error naming it, and --resume continues alone.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/ml/Distributed.hpp"
#include "nurec/ml/Net.hpp"

using namespace nurec;
using namespace nurec::ml;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Discovery of the launcher's environment.

namespace {

DistributedEnv discover(const std::map<std::string, std::string>& vars) {
  return discoverDistributedEnv([&vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string configErrorOf(const std::map<std::string, std::string>& vars) {
  try {
    discover(vars);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no ConfigError";
}

}  // namespace

TEST(DistributedEnv, AloneWithoutLauncher) {
  const DistributedEnv e = discover({});
  EXPECT_EQ(e.rank, 0);
  EXPECT_EQ(e.worldSize, 1);
  EXPECT_FALSE(e.distributed());
  EXPECT_EQ(e.launcher, "single process");
}

TEST(DistributedEnv, TorchrunVariables) {
  const DistributedEnv e = discover(
      {{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "node07"}, {"MASTER_PORT", "1234"}});
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.worldSize, 4);
  EXPECT_EQ(e.masterAddr, "node07");
  EXPECT_EQ(e.masterPort, 1234);
  EXPECT_EQ(e.launcher, "environment");
  EXPECT_TRUE(e.distributed());
  EXPECT_EQ(e.describe(), "4 ranks (environment, master node07:1234, Gloo)");
}

TEST(DistributedEnv, OpenMpiWithDefaults) {
  const DistributedEnv e = discover({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}});
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.worldSize, 2);
  EXPECT_EQ(e.launcher, "mpirun");
  EXPECT_EQ(e.masterAddr, "127.0.0.1");  // one machine unless MASTER_ADDR says otherwise
  EXPECT_EQ(e.masterPort, 29500);
}

TEST(DistributedEnv, SlurmAndPrecedence) {
  const DistributedEnv s = discover({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}});
  EXPECT_EQ(s.rank, 5);
  EXPECT_EQ(s.worldSize, 8);
  EXPECT_EQ(s.launcher, "srun");
  // Explicit RANK/WORLD_SIZE win over a launcher's (torchrun inside an allocation).
  const DistributedEnv t =
      discover({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}});
  EXPECT_EQ(t.worldSize, 2);
  EXPECT_EQ(t.launcher, "environment");
  const DistributedEnv m = discover({{"OMPI_COMM_WORLD_RANK", "1"},
                                     {"OMPI_COMM_WORLD_SIZE", "2"},
                                     {"SLURM_PROCID", "5"},
                                     {"SLURM_NTASKS", "8"}});
  EXPECT_EQ(m.launcher, "mpirun");
}

TEST(DistributedEnv, BadValuesNameTheVariable) {
  EXPECT_NE(
      configErrorOf({{"RANK", "2"}, {"WORLD_SIZE", "2"}}).find("RANK=2 is not below WORLD_SIZE=2"),
      std::string::npos);
  EXPECT_NE(configErrorOf({{"RANK", "-1"}, {"WORLD_SIZE", "2"}})
                .find("RANK='-1' is not a non-negative whole number"),
            std::string::npos);
  EXPECT_NE(configErrorOf({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "two"}})
                .find("OMPI_COMM_WORLD_SIZE='two'"),
            std::string::npos);
  EXPECT_NE(configErrorOf({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "0"}})
                .find("SLURM_NTASKS=0 must be at least 1"),
            std::string::npos);
  EXPECT_NE(configErrorOf({{"RANK", "0"}}).find("RANK is set but WORLD_SIZE is not"),
            std::string::npos);
  EXPECT_NE(configErrorOf({{"WORLD_SIZE", "2"}}).find("WORLD_SIZE is set but RANK is not"),
            std::string::npos);
  EXPECT_NE(configErrorOf({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}})
                .find("MASTER_PORT=70000 is not in [1, 65535]"),
            std::string::npos);
  EXPECT_NE(configErrorOf({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "29500x"}})
                .find("MASTER_PORT='29500x'"),
            std::string::npos);
  EXPECT_NE(configErrorOf({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", ""}})
                .find("MASTER_ADDR is set but empty"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// `nurec train` as several processes.

namespace {

const std::string kNurec = NUREC_BINARY;

// A child process with its output in a log file.
struct Child {
  pid_t pid = -1;
  std::string log;
};

// Starts argv with the environment of this process plus `env` (launcher variables of this process
// removed, so that a test run under mpirun or Slurm does not leak into the children).
Child start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::string& log) {
  std::vector<std::string> envStrings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const std::string name = kv.substr(0, kv.find('='));
    if (name == "RANK" || name == "WORLD_SIZE" || name == "MASTER_PORT" || name == "MASTER_ADDR" ||
        name.rfind("OMPI_", 0) == 0 || name.rfind("SLURM_", 0) == 0 ||
        name.rfind("PMIX_", 0) == 0 || env.count(name) > 0)
      continue;
    envStrings.push_back(kv);
  }
  for (const auto& [k, v] : env) envStrings.push_back(k + "=" + v);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : envStrings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  return Child{pid, log};
}

// Exit status, or -1 if it did not exit within timeoutSeconds (it is then killed).
int waitFor(Child& c, double timeoutSeconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(timeoutSeconds);
  int status = 0;
  while (Clock::now() < end) {
    const pid_t r = waitpid(c.pid, &status, WNOHANG);
    if (r == c.pid) {
      c.pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(c.pid, SIGKILL);
  waitpid(c.pid, &status, 0);
  c.pid = -1;
  return -1;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A port nobody listens on now (the kernel's choice for port 0).
int freePort() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(s);
    return 29517;
  }
  close(s);
  return ntohs(a.sin_port);
}

struct LogRow {
  int epoch;
  double trainLoss, valLoss;
};
std::vector<LogRow> readTrainLog(const std::string& dir) {
  std::ifstream in(dir + "/train_log.csv");
  std::string line;
  std::getline(in, line);  // header
  std::vector<LogRow> rows;
  while (std::getline(in, line)) {
    LogRow r{};
    if (std::sscanf(line.c_str(), "%d,%lf,%lf", &r.epoch, &r.trainLoss, &r.valLoss) == 3)
      rows.push_back(r);
  }
  return rows;
}

// The shared fixture: a small simulated event file and a tiny run card.
class DataParallel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    Child g = start({kNurec, "-q", "generate", "--events", "2000", "--seed", "11", "--min-vis-pt",
                     "12", "--min-lead-vis-pt", "20", "--out", file("truth.h5")},
                    {}, file("generate.log"));
    ASSERT_EQ(waitFor(g, 120), 0) << readFile(g.log);
    Child s = start({kNurec, "-q", "simulate", file("truth.h5"), "--out", file("events.h5")}, {},
                    file("simulate.log"));
    ASSERT_EQ(waitFor(s, 120), 0) << readFile(s.log);
    writeCard("tiny.yaml", 3);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& name) { return dir_->file(name); }
  static void writeCard(const std::string& name, int epochs) {
    std::ofstream(file(name)) << "encoder: {width: 16, heads: 2, layers: 1, cond_dim: 16}\n"
                                 "head: {width: 16, blocks: 1}\n"
                                 "sampler: {steps: 4}\n"
                                 "train:\n  ema_decay: 0.9\n  lr_peak: 1.0e-3\n  epochs: "
                              << epochs << "\n  batch_size: 32\n  warmup_steps: 10\n";
  }
  static std::vector<std::string> train(const std::string& card, const std::string& out,
                                        std::vector<std::string> extra = {}) {
    std::vector<std::string> a{kNurec,     "-q",         "train",           "--config",
                               file(card), "--data",     file("events.h5"), "--out",
                               file(out),  "--no-export"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  static std::map<std::string, std::string> rankEnv(int rank, int size, int port) {
    return {{"RANK", std::to_string(rank)},
            {"WORLD_SIZE", std::to_string(size)},
            {"MASTER_ADDR", "127.0.0.1"},
            {"MASTER_PORT", std::to_string(port)},
            {"OMP_NUM_THREADS", "1"}};
  }
  // The single-process reference (one thread), trained once.
  static const std::string& singleRun() {
    static const std::string out = [] {
      Child c = start(train("tiny.yaml", "single", {"--threads", "1"}), {{"OMP_NUM_THREADS", "1"}},
                      file("single.log"));
      EXPECT_EQ(waitFor(c, 120), 0) << readFile(c.log);
      return file("single");
    }();
    return out;
  }
  // The loss curve of `dir` equals the single-process one `reference` (relative 1e-4) and the
  // final weights are close.
  static void expectSameRun(const std::string& dir) { expectSameRun(dir, singleRun()); }
  static void expectSameRun(const std::string& dir, const std::string& reference) {
    const std::vector<LogRow> a = readTrainLog(reference), b = readTrainLog(dir);
    ASSERT_EQ(a.size(), 3u);
    ASSERT_EQ(b.size(), a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      std::printf("epoch %d: train %.6f vs %.6f, validation %.6f vs %.6f\n", a[i].epoch,
                  a[i].trainLoss, b[i].trainLoss, a[i].valLoss, b[i].valLoss);
      EXPECT_NEAR(b[i].trainLoss, a[i].trainLoss, 1e-4 * a[i].trainLoss) << "epoch " << i + 1;
      EXPECT_NEAR(b[i].valLoss, a[i].valLoss, 1e-4 * a[i].valLoss) << "epoch " << i + 1;
    }
    const LoadedModel m1 = loadModelDir(reference), m2 = loadModelDir(dir);
    auto p2 = m2.net->named_parameters();
    double maxDiff = 0, sumDiff = 0;
    std::int64_t n = 0;
    for (const auto& it : m1.net->named_parameters()) {
      const torch::Tensor d = (it.value() - p2[it.key()]).abs();
      maxDiff = std::max(maxDiff, d.max().item<double>());
      sumDiff += d.sum().item<double>();
      n += d.numel();
    }
    std::printf("weight difference: largest %g, mean %g over %lld weights\n", maxDiff,
                sumDiff / double(n), static_cast<long long>(n));
    // Lion steps by +-lr_peak per component: rounding that flips the sign of a near-zero update
    // moves that weight by about 2 lr (1e-3 here); a few such flips are allowed, a different run
    // is not (the weights move by ~lr on every step).
    EXPECT_LT(maxDiff, 5e-3);
    EXPECT_LT(sumDiff / double(n), 2e-5);
  }

  static TempDir* dir_;
};
TempDir* DataParallel::dir_ = nullptr;

}  // namespace

TEST_F(DataParallel, TwoRanksMatchOneProcess) {
  const int port = freePort();
  // Rank 1 is given an --out of its own: it must not create it (only rank 0 writes).
  Child r0 = start(train("tiny.yaml", "dual"), rankEnv(0, 2, port), file("dual0.log"));
  Child r1 = start(train("tiny.yaml", "dual_rank1"), rankEnv(1, 2, port), file("dual1.log"));
  const int rc1 = waitFor(r1, 120), rc0 = waitFor(r0, 120);
  ASSERT_EQ(rc0, 0) << readFile(r0.log);
  ASSERT_EQ(rc1, 0) << readFile(r1.log);
  EXPECT_NE(readFile(r0.log).find("train: data-parallel over 2 ranks (environment, master "
                                  "127.0.0.1:" +
                                  std::to_string(port) + ", Gloo)"),
            std::string::npos)
      << readFile(r0.log);
  EXPECT_EQ(readFile(r1.log), "");  // rank 1 prints nothing either
  EXPECT_FALSE(fs::exists(file("dual_rank1")));
  for (const char* f : {"model.pt", "config.yaml", "checkpoint.pt", "train_log.csv"})
    EXPECT_TRUE(fs::exists(file("dual") + "/" + f)) << f;
  expectSameRun(file("dual"));
}

// A shuffle buffer of two batches: the training set is read again every epoch in windows, each
// rank reading only its shard's rows (docs/ml-methods.md section 1, docs/distributed.md); the two
// ranks still train the single-process run.
TEST_F(DataParallel, StreamedWindowsMatchOneProcess) {
  const std::vector<std::string> buffer{"--shuffle-buffer", "64", "--chunk-events", "512"};
  std::vector<std::string> single = buffer;
  single.insert(single.end(), {"--threads", "1"});
  Child c = start(train("tiny.yaml", "single_streamed", single), {{"OMP_NUM_THREADS", "1"}},
                  file("single_streamed.log"));
  ASSERT_EQ(waitFor(c, 120), 0) << readFile(c.log);
  const int port = freePort();
  Child r0 = start(train("tiny.yaml", "dual_streamed", buffer), rankEnv(0, 2, port),
                   file("dual_streamed0.log"));
  Child r1 = start(train("tiny.yaml", "dual_streamed", buffer), rankEnv(1, 2, port),
                   file("dual_streamed1.log"));
  const int rc1 = waitFor(r1, 120), rc0 = waitFor(r0, 120);
  ASSERT_EQ(rc0, 0) << readFile(r0.log);
  ASSERT_EQ(rc1, 0) << readFile(r1.log);
  expectSameRun(file("dual_streamed"), file("single_streamed"));
}

TEST_F(DataParallel, MpirunMatchesOneProcess) {
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) GTEST_SKIP() << "no mpirun";
  const int port = freePort();
  std::vector<std::string> argv{"/bin/sh", "-c",
                                "exec mpirun --oversubscribe -np 2 -x MASTER_PORT -x "
                                "OMP_NUM_THREADS \"$@\"",
                                "mpirun"};
  for (const auto& a : train("tiny.yaml", "mpi")) argv.push_back(a);
  Child c = start(argv,
                  {{"MASTER_PORT", std::to_string(port)},
                   {"OMP_NUM_THREADS", "1"},
                   {"OMPI_ALLOW_RUN_AS_ROOT", "1"},
                   {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"}},
                  file("mpi.log"));
  ASSERT_EQ(waitFor(c, 150), 0) << readFile(c.log);
  EXPECT_NE(readFile(c.log).find("data-parallel over 2 ranks (mpirun"), std::string::npos)
      << readFile(c.log);
  expectSameRun(file("mpi"));
}

TEST_F(DataParallel, KilledRankEndsTheJobAndResumeContinues) {
  writeCard("long.yaml", 12);
  const int port = freePort();
  const std::vector<std::string> timeout{"--dist-timeout", "20"};
  Child r0 = start(train("long.yaml", "killed", timeout), rankEnv(0, 2, port), file("kill0.log"));
  Child r1 = start(train("long.yaml", "killed", timeout), rankEnv(1, 2, port), file("kill1.log"));
  // Kill rank 1 in the second epoch: after the first checkpoint.
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  while (!fs::exists(file("killed/checkpoint.pt")) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(file("killed/checkpoint.pt"))) << readFile(r0.log);
  ASSERT_EQ(kill(r1.pid, SIGKILL), 0);
  const auto killedAt = Clock::now();
  EXPECT_EQ(waitFor(r1, 10), 128 + SIGKILL);
  const int rc0 = waitFor(r0, 60);
  const double seconds = std::chrono::duration<double>(Clock::now() - killedAt).count();
  const std::string log = readFile(r0.log);
  std::printf("rank 0 exited with %d %.1f s after the kill:\n%s", rc0, seconds, log.c_str());
  EXPECT_EQ(rc0, 1);
  EXPECT_LT(seconds, 60);
  EXPECT_NE(log.find("nurec: error: train: rank 0 of 2: "), std::string::npos);
  EXPECT_NE(log.find("failed: rank 1 exited or did not answer within 20 s"), std::string::npos);
  // One process continues the checkpoint to the end.
  Child r = start(train("long.yaml", "killed", {"--resume", "--threads", "1"}),
                  {{"OMP_NUM_THREADS", "1"}}, file("resume.log"));
  ASSERT_EQ(waitFor(r, 120), 0) << readFile(r.log);
  EXPECT_NE(readFile(r.log).find("resuming"), std::string::npos) << readFile(r.log);
  EXPECT_EQ(readTrainLog(file("killed")).size(), 12u);
}

TEST_F(DataParallel, KilledRootIsNamedByTheOthers) {
  writeCard("long.yaml", 12);
  const int port = freePort();
  const std::vector<std::string> timeout{"--dist-timeout", "20"};
  Child r0 = start(train("long.yaml", "root", timeout), rankEnv(0, 2, port), file("root0.log"));
  Child r1 = start(train("long.yaml", "root", timeout), rankEnv(1, 2, port), file("root1.log"));
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  while (!fs::exists(file("root/checkpoint.pt")) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(kill(r0.pid, SIGKILL), 0);
  EXPECT_EQ(waitFor(r0, 10), 128 + SIGKILL);
  EXPECT_EQ(waitFor(r1, 60), 1);
  EXPECT_NE(readFile(r1.log).find("train: rank 1 of 2: "), std::string::npos) << readFile(r1.log);
  EXPECT_NE(readFile(r1.log).find("rank 0 (the host of the rendezvous store) exited"),
            std::string::npos)
      << readFile(r1.log);
}

TEST_F(DataParallel, StoppedRankTimesOut) {
  // A rank that hangs (SIGSTOP) rather than exits: the others give up after --dist-timeout.
  writeCard("long.yaml", 12);
  const int port = freePort();
  const std::vector<std::string> timeout{"--dist-timeout", "5"};
  Child r0 = start(train("long.yaml", "stopped", timeout), rankEnv(0, 2, port), file("stop0.log"));
  Child r1 = start(train("long.yaml", "stopped", timeout), rankEnv(1, 2, port), file("stop1.log"));
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  while (!fs::exists(file("stopped/checkpoint.pt")) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(kill(r1.pid, SIGSTOP), 0);
  const auto stoppedAt = Clock::now();
  const int rc0 = waitFor(r0, 60);
  const double seconds = std::chrono::duration<double>(Clock::now() - stoppedAt).count();
  kill(r1.pid, SIGKILL);
  waitFor(r1, 10);
  std::printf("rank 0 exited with %d %.1f s after the stop:\n%s", rc0, seconds,
              readFile(r0.log).c_str());
  EXPECT_EQ(rc0, 1);
  EXPECT_LT(seconds, 30);
  EXPECT_NE(readFile(r0.log).find("rank 1 exited or did not answer within 5 s"), std::string::npos);
}

TEST_F(DataParallel, RefusesABatchNotDivisibleByTheRanks) {
  Child c = start(train("tiny.yaml", "three"), rankEnv(0, 3, freePort()), file("three.log"));
  EXPECT_EQ(waitFor(c, 60), 1);
  EXPECT_NE(readFile(c.log).find("nurec: error: train: train.batch_size 32 is not divisible by "
                                 "the 3 ranks"),
            std::string::npos)
      << readFile(c.log);
  EXPECT_FALSE(fs::exists(file("three")));
}

TEST_F(DataParallel, RefusesInconsistentLauncherVariables) {
  Child c = start(train("tiny.yaml", "bad_env"), rankEnv(2, 2, freePort()), file("bad_env.log"));
  EXPECT_EQ(waitFor(c, 60), 1);
  EXPECT_NE(readFile(c.log).find("RANK=2 is not below WORLD_SIZE=2"), std::string::npos)
      << readFile(c.log);
}
