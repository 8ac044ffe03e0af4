// A tiny progress reporter for long CLI steps, on standard error.
//
//   Progress p("quantize", total);   // total units of work (layers, tokens, ...)
//   p.step();  p.step(n);            // thread-safe
//   p.done();                        // final line (also done by the destructor)
//
// On a terminal: one line redrawn in place, `label [=====>    ] 45/100  12.3s  ETA 15s`.
// Otherwise (logs, pipes, CI): a plain line at every 10% of the work, at most one
// per second, and a final line with the elapsed time.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace mrgptq::cli {

class Progress {
 public:
  Progress(std::string label, int64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void step(int64_t n = 1);
  void done();

  // Silences every Progress (e.g. for --json or --quiet runs).
  static void set_quiet(bool quiet);

 private:
  using Clock = std::chrono::steady_clock;
  void draw(bool final);

  std::string label_;
  int64_t total_;
  int64_t count_ = 0;
  bool tty_;
  bool finished_ = false;
  Clock::time_point start_, last_draw_;
  int last_decile_ = 0;
  std::mutex mu_;
};

}  // namespace mrgptq::cli
