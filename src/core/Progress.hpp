#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace nurec {

// A thread-safe progress bar on stderr for long work: "label [#####    ] 52% 1.2e5/s ETA 12s".
// Redraws at most a few times a second; prints nothing when disabled (quiet mode, tests) and only
// a final line when stderr is not a terminal.
class Progress {
 public:
  Progress(std::string label, std::size_t total, bool enabled = true);
  ~Progress();
  void advance(std::size_t n = 1);
  void finish();
  double elapsedSeconds() const;

  // Global switch (nurec --quiet).
  static void setEnabledGlobally(bool on);

 private:
  void draw(bool final);
  std::string label_;
  std::size_t total_;
  bool enabled_;
  bool tty_;
  bool finished_ = false;
  std::atomic<std::size_t> done_{0};
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point lastDraw_;
  std::mutex mutex_;
};

}  // namespace nurec
