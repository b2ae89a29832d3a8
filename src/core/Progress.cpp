#include "nurec/core/Progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace nurec {

namespace {
std::atomic<bool> gEnabled{true};
}

void Progress::setEnabledGlobally(bool on) {
  gEnabled = on;
}

Progress::Progress(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled && gEnabled),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      lastDraw_(start_) {}

Progress::~Progress() {
  finish();
}

double Progress::elapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::size_t n) {
  done_ += n;
  if (!enabled_ || !tty_) return;
  const auto now = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  if (now - lastDraw_ < std::chrono::milliseconds(200)) return;
  lastDraw_ = now;
  draw(false);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (enabled_) draw(true);
}

void Progress::draw(bool final) {
  const std::size_t done = done_.load();
  const double t = elapsedSeconds();
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const double rate = t > 0 ? static_cast<double>(done) / t : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done, total_)) / rate : 0.0;
  constexpr int width = 30;
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, ' ');
  std::fprintf(stderr, "%s%s [%s] %3.0f%% %zu/%zu %.3g/s %s %.0fs%s", tty_ ? "\r" : "",
               label_.c_str(), bar.c_str(), 100 * frac, done, total_, rate, final ? "in" : "ETA",
               final ? t : eta, final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace nurec
