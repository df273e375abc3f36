// Host mirrors of the generated source's context structures (prelude.cpp); the layouts must agree.
#pragma once
#include <cuda.h>

#include <cstdint>

namespace sf::cuda {

struct HostErr {
  uint32_t flag;
  int32_t id;
  int64_t value, pos;
  int64_t k[8];
};
struct HostEvent {
  int64_t step, index;
};
struct HostEvBuf {
  uint64_t count, cap;
  CUdeviceptr data;
};
struct HostDev {
  int64_t step, ring_rows;
  int32_t half, use_step;
};
struct HostCtx {
  int64_t k[8];
  CUdeviceptr dev, err, ev;
  int64_t nev;
};
static_assert(sizeof(HostErr) == 88 && sizeof(HostEvBuf) == 24 && sizeof(HostDev) == 24 && sizeof(HostCtx) == 96);

}  // namespace sf::cuda
