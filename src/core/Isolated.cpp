#include "nurec/core/Isolated.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace nurec {

std::string IsolatedRun::describe(std::chrono::milliseconds timeout) const {
  switch (outcome) {
    case Outcome::Finished:
      return "finished";
    case Outcome::Crashed:
      return signal != 0
                 ? "crashed with signal " + std::to_string(signal) + " (" + strsignal(signal) + ")"
                 : "exited with code " + std::to_string(exitCode);
    case Outcome::TimedOut:
      return "did not finish within " +
             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
             " s";
    case Outcome::Unavailable:
      break;
  }
  return "could not be run in a child process";
}

IsolatedRun runIsolated(const std::function<void()>& work, std::chrono::milliseconds timeout) {
  IsolatedRun run;
  const pid_t pid = fork();
  if (pid < 0) return run;  // Unavailable
  if (pid == 0) {
    // A crash must end the child by its signal. Handlers inherited from the parent (a sanitizer's
    // or libFuzzer's crash reporter, Python's faulthandler) would report it as their own, or
    // abort the whole run from inside the child (docs/reliability.md "Sanitizer builds").
    for (const int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(s, SIG_DFL);
    try {
      work();
    } catch (...) {
      // The parent repeats the work and reports the error; only the child's fate matters here.
    }
    _exit(0);  // no atexit handlers or static destructors of the parent's state
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return run;  // lost the child: nothing learned
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      run.outcome = IsolatedRun::Outcome::TimedOut;
      return run;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
  if (WIFSIGNALED(status)) {
    run.outcome = IsolatedRun::Outcome::Crashed;
    run.signal = WTERMSIG(status);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    run.outcome = IsolatedRun::Outcome::Crashed;
    run.exitCode = WEXITSTATUS(status);
  } else {
    run.outcome = IsolatedRun::Outcome::Finished;
  }
  return run;
}

}  // namespace nurec
