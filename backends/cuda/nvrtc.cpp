#include "backends/cuda/nvrtc.h"

#include <nvrtc.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

#include "graph/error.h"

namespace sf::cuda {
namespace {

namespace fs = std::filesystem;

const char* const kOptions[] = {
    "--std=c++17",   "--fmad=false", "--ftz=false", "--prec-div=true", "--prec-sqrt=true",
    "--include-path=" SF_CUDA_INCLUDE_DIR, "--include-path=" SF_CUDA_INCLUDE_DIR "/cccl",  // cooperative_groups
    // Generated code names every value; unused ones are normal and leave no trace in the PTX.
    "--diag-suppress=177,550",
};

// The generated lines an NVRTC log names ("file.cu(12): error: ..."), each quoted once.
std::string quote_lines(const std::string& source, const std::string& name, const std::string& log) {
  std::vector<std::string> lines;
  std::istringstream src(source);
  for (std::string l; std::getline(src, l);) lines.push_back(l);
  std::string out;
  std::map<long, bool> seen;
  for (size_t at = log.find(name + "("); at != std::string::npos; at = log.find(name + "(", at + 1)) {
    long n = std::strtol(log.c_str() + at + name.size() + 1, nullptr, 10);
    if (n < 1 || n > static_cast<long>(lines.size()) || seen[n]) continue;
    seen[n] = true;
    out += fmt::format("\n  {}:{}: {}", name, n, lines[static_cast<size_t>(n - 1)]);
  }
  return out;
}

void nvrtc_check(nvrtcResult r, const char* what) {
  if (r != NVRTC_SUCCESS) internal_error("NVRTC {}: {}", what, nvrtcGetErrorString(r));
}

// NVRTC proper: source -> PTX or cubin.
CompiledModule run_nvrtc(const std::string& source, const std::string& arch, const std::string& name) {
  auto t0 = std::chrono::steady_clock::now();
  nvrtcProgram prog = nullptr;
  nvrtc_check(nvrtcCreateProgram(&prog, source.c_str(), name.c_str(), 0, nullptr, nullptr), "create");
  struct Destroy {
    nvrtcProgram* p;
    ~Destroy() { nvrtcDestroyProgram(p); }
  } destroy{&prog};
  int n = 0;
  const char* const* base = nvrtc_options(&n);
  std::vector<const char*> opts(base, base + n);
  std::string arch_opt = "--gpu-architecture=" + arch;
  opts.push_back(arch_opt.c_str());
  nvrtcResult r = nvrtcCompileProgram(prog, static_cast<int>(opts.size()), opts.data());
  size_t log_size = 0;
  nvrtcGetProgramLogSize(prog, &log_size);
  std::string log(log_size, '\0');
  if (log_size > 1) nvrtcGetProgramLog(prog, log.data());
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  if (r != NVRTC_SUCCESS)
    internal_error("NVRTC could not compile the generated CUDA source ({}):{}\n{}", nvrtcGetErrorString(r),
                   quote_lines(source, name, log), log);
  CompiledModule m;
  m.cubin = arch.rfind("sm_", 0) == 0;
  size_t size = 0;
  if (m.cubin) {
    nvrtc_check(nvrtcGetCUBINSize(prog, &size), "cubin size");
    m.image.resize(size);
    nvrtc_check(nvrtcGetCUBIN(prog, m.image.data()), "cubin");
  } else {
    nvrtc_check(nvrtcGetPTXSize(prog, &size), "ptx size");
    m.image.resize(size);
    nvrtc_check(nvrtcGetPTX(prog, m.image.data()), "ptx");
    while (!m.image.empty() && m.image.back() == '\0') m.image.pop_back();
  }
  m.log = log;
  m.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

std::string read_file(const fs::path& p, bool* ok) {
  std::ifstream in(p, std::ios::binary);
  *ok = static_cast<bool>(in);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Written to a temporary name, then renamed: concurrent processes never read half a file.
void write_file(const fs::path& p, const std::string& data) {
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) return;  // no cache: not an error
  fs::path tmp = p;
  tmp += fmt::format(".tmp{}", static_cast<long>(std::chrono::steady_clock::now().time_since_epoch().count()));
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) return;
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return;
  }
  fs::rename(tmp, p, ec);
  if (ec) fs::remove(tmp, ec);
}

std::mutex& memory_mutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, CompiledModule>& memory_cache() {
  static std::map<std::string, CompiledModule> memory;
  return memory;
}

}  // namespace

void forget_compiled_modules() {
  std::lock_guard<std::mutex> lock(memory_mutex());
  memory_cache().clear();
}

const char* const* nvrtc_options(int* count) {
  *count = static_cast<int>(sizeof kOptions / sizeof kOptions[0]);
  return kOptions;
}

std::string hash_hex(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

std::string cache_dir() {
  if (const char* d = std::getenv("SCANFLOW_CACHE_DIR"); d && *d) return d;
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/scanflow/cuda";
  return "";
}

CompiledModule compile_cuda(const std::string& source, const std::string& arch, const std::string& name,
                            bool use_cache) {
  int major = 0, minor = 0;
  nvrtcVersion(&major, &minor);
  int n = 0;
  const char* const* opts = nvrtc_options(&n);
  std::string key_text = fmt::format("nvrtc {}.{} {}", major, minor, arch);
  for (int i = 0; i < n; ++i) key_text += std::string(" ") + opts[i];
  std::string key = hash_hex(key_text + "\n" + source) + "-" + arch;
  std::mutex& mu = memory_mutex();
  std::map<std::string, CompiledModule>& memory = memory_cache();
  if (use_cache) {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = memory.find(key); it != memory.end()) {
      CompiledModule m = it->second;
      m.from_memory = true, m.from_disk = false, m.ms = 0;
      return m;
    }
  }
  bool cubin = arch.rfind("sm_", 0) == 0;
  fs::path file = cache_dir().empty() ? fs::path() : fs::path(cache_dir()) / (key + (cubin ? ".cubin" : ".ptx"));
  CompiledModule m;
  bool ok = false;
  if (use_cache && !file.empty()) m.image = read_file(file, &ok);
  if (ok && !m.image.empty()) {
    m.cubin = cubin, m.from_disk = true;
  } else {
    m = run_nvrtc(source, arch, name);
    if (use_cache && !file.empty()) {
      write_file(fs::path(file).replace_extension(".cu"), source);  // for reading what a module holds
      write_file(file, m.image);
    }
  }
  if (use_cache) {
    std::lock_guard<std::mutex> lock(mu);
    memory[key] = m;
  }
  return m;
}

}  // namespace sf::cuda
