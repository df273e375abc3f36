// The fixed head of every generated CUDA source (context structures and scalar helpers).
#pragma once

namespace sf::cuda {
const char* prelude();
}  // namespace sf::cuda
