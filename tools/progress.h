// A progress bar on stderr for long runs; silent unless stderr is a terminal.
#pragma once
#include <chrono>
#include <cstdint>

namespace sf::cli {

class ProgressBar {
 public:
  ProgressBar();  // enabled when stderr is a TTY
  ~ProgressBar() { done(); }
  void update(int64_t step, int64_t length);
  void done();  // clears the bar

 private:
  bool enabled_ = false, shown_ = false;
  int last_permille_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace sf::cli
