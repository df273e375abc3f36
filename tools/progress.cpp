#include "tools/progress.h"

#include <unistd.h>

#include <string>

#include <fmt/format.h>

namespace sf::cli {

ProgressBar::ProgressBar() : enabled_(isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int64_t step, int64_t length) {
  if (!enabled_ || length <= 0) return;
  auto now = std::chrono::steady_clock::now();
  // Short runs finish before the bar would be worth drawing; redraw at most 10 times a second.
  if (now - start_ < std::chrono::milliseconds(500) || now - last_draw_ < std::chrono::milliseconds(100)) return;
  int permille = static_cast<int>(1000 * step / length);
  if (permille == last_permille_) return;
  last_permille_ = permille;
  last_draw_ = now;
  constexpr int kWidth = 40;
  int filled = permille * kWidth / 1000;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double eta = step > 0 ? elapsed * static_cast<double>(length - step) / static_cast<double>(step) : 0;
  fmt::print(stderr, "\r[{}{}] {:5.1f}%  step {}/{}  {:.0f}s left ", std::string(filled, '#'),
             std::string(kWidth - filled, ' '), permille / 10.0, step, length, eta);
  std::fflush(stderr);
  shown_ = true;
}

void ProgressBar::done() {
  if (!shown_) return;
  fmt::print(stderr, "\r{}\r", std::string(90, ' '));
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace sf::cli
