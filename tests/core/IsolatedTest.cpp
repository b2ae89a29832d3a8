// core/Isolated: a crash or a hang in the child is reported, normal work and exceptions are not.
#include "nurec/core/Isolated.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <stdexcept>
#include <thread>

using namespace nurec;
using namespace std::chrono_literals;

TEST(Isolated, FinishedWorkAndExceptionsAreFinished) {
  EXPECT_EQ(runIsolated([] {}, 10s).outcome, IsolatedRun::Outcome::Finished);
  EXPECT_EQ(runIsolated([] { throw std::runtime_error("reported by the caller"); }, 10s).outcome,
            IsolatedRun::Outcome::Finished);
}

TEST(Isolated, CrashIsReportedWithItsSignal) {
  const IsolatedRun r = runIsolated([] { std::raise(SIGSEGV); }, 10s);
  EXPECT_EQ(r.outcome, IsolatedRun::Outcome::Crashed);
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_NE(r.describe(10s).find("signal 11"), std::string::npos) << r.describe(10s);
  const IsolatedRun a = runIsolated([] { std::abort(); }, 10s);
  EXPECT_EQ(a.outcome, IsolatedRun::Outcome::Crashed);
  EXPECT_EQ(a.signal, SIGABRT);
}

TEST(Isolated, HangIsKilledAtTheTimeout) {
  const auto start = std::chrono::steady_clock::now();
  const IsolatedRun r = runIsolated(
      [] {
        for (;;) std::this_thread::sleep_for(1s);
      },
      300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.outcome, IsolatedRun::Outcome::TimedOut);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(r.describe(30s), "did not finish within 30 s");
}

// The parent's crash handler (as a sanitizer or libFuzzer installs one) must not turn the child's
// crash into a clean exit: the child resets the fatal signals to their default action.
TEST(Isolated, ParentCrashHandlerDoesNotHideTheChildsCrash) {
  struct sigaction previous {};
  struct sigaction handler {};
  handler.sa_handler = [](int) { _exit(0); };
  ::sigaction(SIGSEGV, &handler, &previous);
  const IsolatedRun run = runIsolated([] { ::raise(SIGSEGV); }, std::chrono::seconds(10));
  ::sigaction(SIGSEGV, &previous, nullptr);
  EXPECT_EQ(run.outcome, IsolatedRun::Outcome::Crashed);
  EXPECT_EQ(run.signal, SIGSEGV);
}
