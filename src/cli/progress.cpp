#include "cli/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

namespace mrgptq::cli {

namespace {
std::atomic<bool> g_quiet{false};

std::string fmt_seconds(double s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, int(s) % 3600 / 60);
  return buf;
}
}  // namespace

void Progress::set_quiet(bool quiet) {
  g_quiet = quiet;
}

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 1)),
      tty_(::isatty(STDERR_FILENO) == 1),
      start_(Clock::now()),
      last_draw_(start_) {
  if (g_quiet) return;
  if (tty_) draw(false);
}

Progress::~Progress() {
  done();
}

void Progress::step(int64_t n) {
  std::lock_guard lock(mu_);
  if (finished_) return;
  count_ = std::min(count_ + n, total_);
  if (g_quiet) return;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (tty_) {
    // Redraw at most ~10 times a second: cheap even with millions of steps.
    if (since >= 0.1 || count_ == total_) draw(false);
    return;
  }
  const int decile = int(count_ * 10 / total_);
  if (decile > last_decile_ && since >= 1.0 && count_ < total_) {
    last_decile_ = decile;
    draw(false);
  }
}

void Progress::done() {
  std::lock_guard lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (!g_quiet) draw(true);
}

void Progress::draw(bool final) {
  last_draw_ = Clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  const double frac = double(count_) / double(total_);
  if (!tty_) {
    if (final)
      std::fprintf(stderr, "%s: done, %lld/%lld in %s\n", label_.c_str(), (long long)count_,
                   (long long)total_, fmt_seconds(elapsed).c_str());
    else
      std::fprintf(stderr, "%s: %lld/%lld (%d%%), %s elapsed\n", label_.c_str(), (long long)count_,
                   (long long)total_, int(frac * 100), fmt_seconds(elapsed).c_str());
    std::fflush(stderr);
    return;
  }
  constexpr int kWidth = 30;
  const int filled = int(frac * kWidth);
  std::string bar(size_t(kWidth), ' ');
  std::fill(bar.begin(), bar.begin() + filled, '=');
  if (filled < kWidth && count_ > 0) bar[size_t(filled)] = '>';
  std::string eta;
  if (final)
    eta = "done";
  else if (count_ > 0)
    eta = "ETA " + fmt_seconds(elapsed / frac * (1 - frac));
  // \r returns to the line start, \033[K clears what a longer earlier line left.
  std::fprintf(stderr, "\r%s [%s] %lld/%lld  %s  %s\033[K%s", label_.c_str(), bar.c_str(),
               (long long)count_, (long long)total_, fmt_seconds(elapsed).c_str(), eta.c_str(),
               final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace mrgptq::cli
