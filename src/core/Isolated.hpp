#pragma once
// Runs a function in a forked child process, so that a crash or a hang inside a library that
// cannot defend itself against damaged input becomes an outcome the caller reports, instead of
// killing or freezing nurec (docs/reliability.md: libhdf5 1.10 crashes on some damaged files while
// reading their structure). The child shares nothing back but its fate: it runs `work`, ignores
// any exception (the caller repeats the work in-process and reports that error itself) and exits.
// POSIX only. Not for code that needs locks another thread of the parent may hold at fork time.
#include <chrono>
#include <functional>
#include <string>

namespace nurec {

struct IsolatedRun {
  enum class Outcome {
    Finished,     // the child returned from `work` (or threw) and exited normally
    Crashed,      // killed by a signal, or exited with a nonzero code (e.g. a sanitizer report)
    TimedOut,     // still running after the timeout; it was killed
    Unavailable,  // fork() failed (no memory, process limit): nothing was learned
  };
  Outcome outcome = Outcome::Unavailable;
  int signal = 0;    // Crashed by a signal: its number
  int exitCode = 0;  // Crashed by exiting: its code

  // "crashed with signal 11 (Segmentation fault)", "did not finish within 30 s", ...
  std::string describe(std::chrono::milliseconds timeout) const;
};

IsolatedRun runIsolated(const std::function<void()>& work, std::chrono::milliseconds timeout);

}  // namespace nurec
