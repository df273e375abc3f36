// Baseline (a) for W1: hh-squid written by hand as fast as we can make it, with the same model,
// integrator and arithmetic as scanflow's `hh-squid` (models/hh_squid.cpp):
//   - the time loop runs inside the neuron loop: each OpenMP thread takes static chunks of W*L
//     neurons (L vectors of W lanes, interleaved for instruction-level parallelism) and integrates
//     them for all steps with the state in registers/L1;
//   - exp and expm1 are libmvec's vector functions, called directly (glibc declares the SIMD
//     variants only under -ffast-math, which this file must not use): _ZGVdN4v_exp / _ZGVdN8v_expf
//     (AVX2) or _ZGVeN8v_exp / _ZGVeN16v_expf (AVX-512), chosen with --isa;
//   - RK4 in the tutorial's expression order, dt_k = (k+1)*dt - k*dt in f64 then cast, spike
//     detection (V crosses 0 upward), last-spike time and per-neuron spike count as scanflow does;
//   - alpha_m and alpha_n are written as the compiler rewrites their removable 0/0
//     (a * k * w/expm1(w), 1 at w = 0).
// The one difference from the compiled graph, at round-off level: m^3 and n^4 are products (the
// graph's exact mode keeps pow). Nothing is recorded per step; --out writes the final V (.npy).
//
// Build: g++ -std=c++20 -O3 -march=native -ffp-contract=off -fopenmp hh_squid_hand.cpp -o hh_squid_hand
//        (no fast-math; no FMA contraction, so it rounds like the graph; -lm brings libmvec in through
//        Debian's libm.so linker script)
// Run:   hh_squid_hand --n 100000 --steps 10000 --dtype f64 --threads 2 --isa avx2 --interleave 2 [--out V.npy]
#include <omp.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

typedef double v4d __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));

extern "C" v4d _ZGVdN4v_exp(v4d);
extern "C" v8d _ZGVeN8v_exp(v8d);
extern "C" v8f _ZGVdN8v_expf(v8f);
extern "C" v16f _ZGVeN16v_expf(v16f);
extern "C" v4d _ZGVdN4v_expm1(v4d);
extern "C" v8d _ZGVeN8v_expm1(v8d);
extern "C" v8f _ZGVdN8v_expm1f(v8f);
extern "C" v16f _ZGVeN16v_expm1f(v16f);

static inline v4d vexp(v4d x) { return _ZGVdN4v_exp(x); }
static inline v8d vexp(v8d x) { return _ZGVeN8v_exp(x); }
static inline v8f vexp(v8f x) { return _ZGVdN8v_expf(x); }
static inline v16f vexp(v16f x) { return _ZGVeN16v_expf(x); }
static inline v4d vexpm1(v4d x) { return _ZGVdN4v_expm1(x); }
static inline v8d vexpm1(v8d x) { return _ZGVeN8v_expm1(x); }
static inline v8f vexpm1(v8f x) { return _ZGVdN8v_expm1f(x); }
static inline v16f vexpm1(v16f x) { return _ZGVeN16v_expm1f(x); }

namespace {

// w / expm1(w), 1 at w = 0: the rates' removable 0/0 written as the compiler rewrites it
// (compiler/singularities.cpp), so f32 runs don't turn into NaN where V + 40 or V + 55 rounds to 0.
template <class V, class T>
inline V ratio(V w) {
  return w == T(0) ? V{} + T(1) : w / vexpm1(w);
}

// The state of one vector of neurons.
template <class V>
struct Y {
  V v, m, h, n;
};

// d(state)/dt, operation for operation as models/hh_squid.cpp builds it (C_m = 1: the division
// by it is exact and left out).
template <class V, class T>
inline Y<V> deriv(const Y<V>& y, V I) {
  const T g_Na = 120, E_Na = 50, g_K = 36, E_K = -77, g_L = T(0.3), E_L = T(-54.387);
  V v = y.v, m = y.m, h = y.h, k = y.n;
  V alpha_m = T(0.1) * (T(10) * ratio<V, T>(-(v + T(40)) / T(10)));  // 0.1(V+40)/(1-exp(-(V+40)/10))
  V beta_m = T(4) * vexp(-(v + T(65)) / T(18));
  V alpha_h = T(0.07) * vexp(-(v + T(65)) / T(20));
  V beta_h = T(1) / (T(1) + vexp(-(v + T(35)) / T(10)));
  V alpha_n = T(0.01) * (T(10) * ratio<V, T>(-(v + T(55)) / T(10)));  // 0.01(V+55)/(1-exp(-(V+55)/10))
  V beta_n = T(0.125) * vexp(-(v + T(65)) / T(80));
  V I_Na = g_Na * (m * m * m) * h * (v - E_Na);
  V k2 = k * k;
  V I_K = g_K * (k2 * k2) * (v - E_K);
  V I_L = g_L * (v - E_L);
  return {I - I_Na - I_K - I_L, alpha_m * (T(1) - m) - beta_m * m, alpha_h * (T(1) - h) - beta_h * h,
          alpha_n * (T(1) - k) - beta_n * k};
}

// y + dt*k/2 (half) or y + dt*k, as the tutorial writes it.
template <class V, class T>
inline Y<V> shifted(const Y<V>& y, const Y<V>& k, T dt, bool half) {
  auto s = [&](V a, V b) { return half ? a + (dt * b) / T(2) : a + dt * b; };
  return {s(y.v, k.v), s(y.m, k.m), s(y.h, k.h), s(y.n, k.n)};
}

template <class V, class T>
inline Y<V> rk4(const Y<V>& y, V I, T dt) {
  Y<V> k1 = deriv<V, T>(y, I);
  Y<V> k2 = deriv<V, T>(shifted(y, k1, dt, true), I);
  Y<V> k3 = deriv<V, T>(shifted(y, k2, dt, true), I);
  Y<V> k4 = deriv<V, T>(shifted(y, k3, dt, false), I);
  T w = dt / T(6);
  auto c = [&](V a, V b1, V b2, V b3, V b4) { return a + (b1 + T(2) * b2 + T(2) * b3 + b4) * w; };
  return {c(y.v, k1.v, k2.v, k3.v, k4.v), c(y.m, k1.m, k2.m, k3.m, k4.m), c(y.h, k1.h, k2.h, k3.h, k4.h),
          c(y.n, k1.n, k2.n, k3.n, k4.n)};
}

// Population arrays, padded to whole chunks.
template <class T>
struct Pop {
  std::vector<T> v, m, h, n, I, t_spike;
  std::vector<int64_t> count;
};

// Integrates neurons [i0, i0 + W*L) for `steps` steps: L independent vectors interleaved for ILP.
template <class V, class T, int W, int L>
void chunk(Pop<T>& p, int64_t i0, int64_t steps, double dt) {
  Y<V> y[L];
  V I[L], ts[L];
  V cnt[L];  // spike counts, as T (exact up to 2^24 in f32, far beyond any run here)
  for (int l = 0; l < L; ++l) {
    int64_t o = i0 + l * W;
    std::memcpy(&y[l].v, &p.v[o], sizeof(V));
    std::memcpy(&y[l].m, &p.m[o], sizeof(V));
    std::memcpy(&y[l].h, &p.h[o], sizeof(V));
    std::memcpy(&y[l].n, &p.n[o], sizeof(V));
    std::memcpy(&I[l], &p.I[o], sizeof(V));
    std::memcpy(&ts[l], &p.t_spike[o], sizeof(V));
    cnt[l] = V{};
  }
  for (int64_t k = 0; k < steps; ++k) {
    double t = double(k) * dt;
    double dtk = double(k + 1) * dt - t;  // the tutorial's dt_k, then cast to the state's type
    T t_T = T(t);
    for (int l = 0; l < L; ++l) {
      Y<V> y1 = rk4<V, T>(y[l], I[l], T(dtk));
      auto fired = (y[l].v < T(0)) & (y1.v >= T(0));
      if constexpr (sizeof(T) == 8) ts[l] = ts[l] + (fired ? t_T - ts[l] : V{});
      else ts[l] = fired ? V{} + t_T : ts[l];
      cnt[l] += fired ? V{} + T(1) : V{};
      y[l] = y1;
    }
  }
  for (int l = 0; l < L; ++l) {
    int64_t o = i0 + l * W;
    std::memcpy(&p.v[o], &y[l].v, sizeof(V));
    std::memcpy(&p.m[o], &y[l].m, sizeof(V));
    std::memcpy(&p.h[o], &y[l].h, sizeof(V));
    std::memcpy(&p.n[o], &y[l].n, sizeof(V));
    std::memcpy(&p.t_spike[o], &ts[l], sizeof(V));
    for (int j = 0; j < W; ++j) p.count[size_t(o + j)] = int64_t(cnt[l][j]);
  }
}

void write_npy(const std::string& path, const void* data, int64_t n, bool f64) {
  std::string header = "{'descr': '" + std::string(f64 ? "<f8" : "<f4") + "', 'fortran_order': False, 'shape': (" +
                       std::to_string(n) + ",), }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) { std::perror(path.c_str()); std::exit(1); }
  uint16_t len = uint16_t(header.size());
  std::fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  std::fwrite(&len, 2, 1, f);
  std::fwrite(header.data(), 1, header.size(), f);
  std::fwrite(data, f64 ? 8 : 4, size_t(n), f);
  std::fclose(f);
}

template <class V, class T, int W, int L>
int run(int64_t n, int64_t steps, const std::string& out) {
  const int64_t G = W * L, padded = (n + G - 1) / G * G;
  Pop<T> p;
  p.v.assign(size_t(padded), T(-65));
  p.m.assign(size_t(padded), T(0.05));
  p.h.assign(size_t(padded), T(0.6));
  p.n.assign(size_t(padded), T(0.32));
  p.t_spike.assign(size_t(padded), T(-9999999.0));
  p.count.assign(size_t(padded), 0);
  p.I.assign(size_t(padded), T(0));
  for (int64_t i = 0; n > 1 && i < n; ++i) p.I[size_t(i)] = T(20.0 * double(i) / double(n - 1));  // as the model

  auto start = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < padded / G; ++c) chunk<V, T, W, L>(p, c * G, steps, 0.01);
  double sim_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  int64_t spikes = 0;
  for (int64_t i = 0; i < n; ++i) spikes += p.count[size_t(i)];
  std::printf("sim_s: %.6f\nspikes: %lld\nns_per_neuron_step: %.4f\nthreads: %d\n", sim_s, (long long)spikes,
              1e9 * sim_s / (double(n) * double(steps)), omp_get_max_threads());
  if (!out.empty()) write_npy(out, p.v.data(), n, sizeof(T) == 8);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1000, steps = 10000;
  std::string dtype = "f64", isa = "avx2", out;
  int threads = 0, interleave = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--n") n = std::atoll(v.c_str());
    else if (a == "--steps") steps = std::atoll(v.c_str());
    else if (a == "--dtype") dtype = v;
    else if (a == "--isa") isa = v;
    else if (a == "--threads") threads = std::atoi(v.c_str());
    else if (a == "--interleave") interleave = std::atoi(v.c_str());
    else if (a == "--out") out = v;
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  if (threads > 0) omp_set_num_threads(threads);
  bool f64 = dtype == "f64", avx512 = isa == "avx512";
  if (interleave == 1) {
    if (f64) return avx512 ? run<v8d, double, 8, 1>(n, steps, out) : run<v4d, double, 4, 1>(n, steps, out);
    return avx512 ? run<v16f, float, 16, 1>(n, steps, out) : run<v8f, float, 8, 1>(n, steps, out);
  }
  if (interleave == 4) {
    if (f64) return avx512 ? run<v8d, double, 8, 4>(n, steps, out) : run<v4d, double, 4, 4>(n, steps, out);
    return avx512 ? run<v16f, float, 16, 4>(n, steps, out) : run<v8f, float, 8, 4>(n, steps, out);
  }
  if (f64) return avx512 ? run<v8d, double, 8, 2>(n, steps, out) : run<v4d, double, 4, 2>(n, steps, out);
  return avx512 ? run<v16f, float, 16, 2>(n, steps, out) : run<v8f, float, 8, 2>(n, steps, out);
}
