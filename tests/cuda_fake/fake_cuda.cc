// A host emulation of the CUDA driver API subset scanflow calls, built by the cuda: emulation test
// as a shared library and loaded through $SCANFLOW_LIBCUDA. It lets the CUDA backend's runtime,
// recorder and generated kernels run end to end on a machine without a GPU:
//   - memory is host memory (a CUdeviceptr is a host address), copies are memcpy, streams and
//     events are synchronous;
//   - a module is the generated CUDA source (found beside the image in $SCANFLOW_CACHE_DIR, where
//     the backend's disk cache keeps it) compiled with the host C++ compiler against
//     device_shim.h ($SF_FAKE_SHIM); a launch runs 3 emulated threads one after the other (thread
//     0 first), each over its grid-stride share, which catches a thread reading what another
//     wrote in the same launch; kernels with barriers (persistent) run as one thread;
//   - a CUDA graph is the list of launches captured, replayed in order.
// It measures nothing and says nothing about a GPU: it checks the host side and the generated code's
// semantics (with the host's math, so results are bit-exact with the reference executor).
//
// By hand, the device tests can run against it too (a few minutes: every module is compiled twice):
//   c++ -std=c++17 -O1 -shared -fPIC -I/usr/local/cuda/include tests/cuda_fake/fake_cuda.cc -o /tmp/libfakecuda.so -ldl
//   export SCANFLOW_LIBCUDA=/tmp/libfakecuda.so SF_FAKE_SHIM=$PWD/tests/cuda_fake/device_shim.h
//   SCANFLOW_CACHE_DIR=/tmp/fakecache BUILD/scanflow_tests -tc='cuda: device*' 
#include <cuda.h>
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Ctx {
  char bytes[96];  // SfCtx, by value
};
using OpFn = void (*)(char* const*, const Ctx*, long long, long long);
using SetThreadFn = void (*)(unsigned, unsigned);
constexpr unsigned kThreads = 3;  // emulated threads per launch (kernels without barriers)
using RegionFn = void (*)(char* const*, Ctx, long long, long long);
using AdvanceFn = void (*)(Ctx);

struct Module;
struct Function {
  enum Shape { Op, Region, Advance } shape = Op;
  Module* module = nullptr;
  bool barriers = false;  // a persistent kernel: run as one thread
  void* sym = nullptr;
  size_t slots = 0;  // Op: pointer slots
};
struct Module {
  void* lib = nullptr;
  SetThreadFn set_thread = nullptr;
  std::map<std::string, Function> fns;
};
struct Launch {
  Function* f;
  std::vector<char> params;  // the argument bytes, in order
};
struct Graph {
  std::vector<Launch> launches;
};

bool capturing = false;
std::vector<Launch> captured;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The image's length: PTX is NUL-terminated text, a cubin an ELF file ending with its section or
// program header table.
size_t image_size(const void* image) {
  const unsigned char* b = static_cast<const unsigned char*>(image);
  if (b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F') {
    uint64_t phoff, shoff;
    uint16_t phentsize, phnum, shentsize, shnum;
    std::memcpy(&phoff, b + 0x20, 8), std::memcpy(&shoff, b + 0x28, 8);
    std::memcpy(&phentsize, b + 0x36, 2), std::memcpy(&phnum, b + 0x38, 2);
    std::memcpy(&shentsize, b + 0x3a, 2), std::memcpy(&shnum, b + 0x3c, 2);
    return std::max(phoff + uint64_t{phentsize} * phnum, shoff + uint64_t{shentsize} * shnum);
  }
  return std::strlen(static_cast<const char*>(image));
}

// The source of a module image: the KEY.cu beside the cached KEY.cubin/KEY.ptx with these bytes.
// `path` is set to KEY (where the host build of the module is kept too).
std::string find_source(const void* image, fs::path* path) {
  const char* dir = std::getenv("SCANFLOW_CACHE_DIR");
  if (!dir) return "";
  size_t n = image_size(image);
  for (auto& e : fs::directory_iterator(dir)) {
    std::string ext = e.path().extension().string();
    if (ext != ".cubin" && ext != ".ptx") continue;
    if (fs::file_size(e.path()) != n) continue;
    std::string data = slurp(e.path());
    if (std::memcmp(data.data(), image, n) != 0) continue;
    *path = fs::path(e.path()).replace_extension("");
    return slurp(fs::path(e.path()).replace_extension(".cu"));
  }
  return "";
}

// Compiles the generated source for the host (once: KEY.host.so), with an extern "C" entry per op
// wrapper.
Module* load(const std::string& source, const fs::path& key) {
  auto* m = new Module;
  std::string src = std::regex_replace(source, std::regex("#include <cooperative_groups.h>"), "");
  std::regex slots_re("struct (sf_[A-Za-z0-9_]+)_slots \\{ char\\* p\\[([0-9]+)\\]; \\};");
  std::string extra = "\n";
  for (std::sregex_iterator it(source.begin(), source.end(), slots_re), end; it != end; ++it) {
    std::string name = (*it)[1];
    Function f;
    f.slots = static_cast<size_t>(std::stoul((*it)[2]));
    m->fns[name] = f;
    extra += "extern \"C\" void fake_" + name + "(char* const* p, const SfCtx* c, long long t, long long n) { " + name +
             "_run(p, *c, t, n); }\n";
  }
  std::regex region_re("void __launch_bounds__\\([0-9]+\\) (sf_r[0-9]+_(persistent|elementwise))\\(");
  for (std::sregex_iterator it(source.begin(), source.end(), region_re), end; it != end; ++it)
    m->fns[(*it)[1]].shape = Function::Region;
  m->fns["sf_advance"].shape = Function::Advance;
  std::string so = key.string() + ".host.so";
  if (!fs::exists(so)) {
    std::string base = key.string() + ".host." + std::to_string(getpid());
    std::ofstream(base + ".cc") << src << extra;
    const char* cxx = std::getenv("CXX");
    std::string cmd = std::string(cxx && *cxx ? cxx : "c++") + " -std=c++17 -O1 -w -shared -fPIC -include " +
                      std::getenv("SF_FAKE_SHIM") + " -x c++ " + base + ".cc -o " + base + ".so 2>&1";
    int rc = std::system(cmd.c_str());
    fs::remove(base + ".cc");
    if (rc != 0) return nullptr;
    fs::rename(base + ".so", so);
  }
  m->lib = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!m->lib) return nullptr;
  m->set_thread = reinterpret_cast<SetThreadFn>(dlsym(m->lib, "fake_set_thread"));
  if (!m->set_thread) return nullptr;
  for (auto& [name, f] : m->fns) {
    f.sym = dlsym(m->lib, (f.shape == Function::Op ? "fake_" + name : name).c_str());
    f.module = m;
    f.barriers = name.find("_persistent") != std::string::npos;
    if (!f.sym) return nullptr;
  }
  return m;
}

void run(const Launch& l) {
  const char* p = l.params.data();
  unsigned threads = l.f->barriers ? 1 : kThreads;
  switch (l.f->shape) {
    case Function::Op: {
      const char* slots = p;
      for (unsigned t = 0; t < threads; ++t)
        reinterpret_cast<OpFn>(l.f->sym)(reinterpret_cast<char* const*>(slots),
                                         reinterpret_cast<const Ctx*>(p + l.f->slots * 8), t, threads);
      break;
    }
    case Function::Region: {
      char* const* tab;
      Ctx c;
      long long k0, k1;
      std::memcpy(&tab, p, 8), std::memcpy(&c, p + 8, 96), std::memcpy(&k0, p + 104, 8), std::memcpy(&k1, p + 112, 8);
      for (unsigned t = 0; t < threads; ++t) {
        l.f->module->set_thread(t, threads);
        reinterpret_cast<RegionFn>(l.f->sym)(tab, c, k0, k1);
      }
      l.f->module->set_thread(0, 1);
      break;
    }
    case Function::Advance: {
      Ctx c;
      std::memcpy(&c, p, 96);
      l.f->module->set_thread(0, 1);
      reinterpret_cast<AdvanceFn>(l.f->sym)(c);
      break;
    }
  }
}

// The argument bytes of a launch, copied (a captured launch outlives the caller's arguments).
Launch capture(CUfunction f, void** params) {
  Launch l{reinterpret_cast<Function*>(f), {}};
  auto add = [&](const void* a, size_t n) { l.params.insert(l.params.end(), (const char*)a, (const char*)a + n); };
  switch (l.f->shape) {
    case Function::Op: add(params[0], l.f->slots * 8), add(params[1], 96); break;
    case Function::Region: add(params[0], 8), add(params[1], 96), add(params[2], 8), add(params[3], 8); break;
    case Function::Advance: add(params[0], 96); break;
  }
  return l;
}

}  // namespace

extern "C" {

CUresult cuInit(unsigned) { return CUDA_SUCCESS; }
CUresult cuDriverGetVersion(int* v) { return *v = 13000, CUDA_SUCCESS; }
CUresult cuGetErrorName(CUresult, const char** s) { return *s = "CUDA_ERROR_FAKE", CUDA_SUCCESS; }
CUresult cuGetErrorString(CUresult, const char** s) { return *s = "host emulation error", CUDA_SUCCESS; }
CUresult cuDeviceGetCount(int* n) { return *n = 1, CUDA_SUCCESS; }
CUresult cuDeviceGet(CUdevice* d, int) { return *d = 0, CUDA_SUCCESS; }
CUresult cuDeviceGetName(char* s, int n, CUdevice) {
  std::snprintf(s, static_cast<size_t>(n), "host emulation (no GPU)");
  return CUDA_SUCCESS;
}
CUresult cuDeviceGetAttribute(int* v, CUdevice_attribute a, CUdevice) {
  switch (a) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 1; break;
    case CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH: *v = 1; break;
    default: *v = 1; break;
  }
  return CUDA_SUCCESS;
}
CUresult cuDeviceTotalMem(size_t* b, CUdevice) { return *b = size_t{1} << 34, CUDA_SUCCESS; }
CUresult cuDevicePrimaryCtxRetain(CUcontext* c, CUdevice) { return *c = reinterpret_cast<CUcontext>(1), CUDA_SUCCESS; }
CUresult cuDevicePrimaryCtxRelease(CUdevice) { return CUDA_SUCCESS; }
CUresult cuCtxSetCurrent(CUcontext) { return CUDA_SUCCESS; }
CUresult cuCtxSynchronize() { return CUDA_SUCCESS; }

CUresult cuModuleLoadData(CUmodule* m, const void* image) {
  fs::path key;
  std::string src = find_source(image, &key);
  Module* mod = src.empty() ? nullptr : load(src, key);
  if (!mod) return CUDA_ERROR_INVALID_IMAGE;
  *m = reinterpret_cast<CUmodule>(mod);
  return CUDA_SUCCESS;
}
CUresult cuModuleUnload(CUmodule m) {
  auto* mod = reinterpret_cast<Module*>(m);
  if (mod->lib) dlclose(mod->lib);
  delete mod;
  return CUDA_SUCCESS;
}
CUresult cuModuleGetFunction(CUfunction* f, CUmodule m, const char* name) {
  auto* mod = reinterpret_cast<Module*>(m);
  auto it = mod->fns.find(name);
  if (it == mod->fns.end()) return CUDA_ERROR_NOT_FOUND;
  *f = reinterpret_cast<CUfunction>(&it->second);
  return CUDA_SUCCESS;
}

CUresult cuMemAlloc(CUdeviceptr* p, size_t n) {
  void* m = std::calloc(1, n);
  if (!m) return CUDA_ERROR_OUT_OF_MEMORY;
  *p = reinterpret_cast<CUdeviceptr>(m);
  return CUDA_SUCCESS;
}
CUresult cuMemFree(CUdeviceptr p) { return std::free(reinterpret_cast<void*>(p)), CUDA_SUCCESS; }
CUresult cuMemAllocHost(void** p, size_t n) { return *p = std::calloc(1, n), CUDA_SUCCESS; }
CUresult cuMemFreeHost(void* p) { return std::free(p), CUDA_SUCCESS; }
CUresult cuMemGetInfo(size_t* f, size_t* t) { return *f = *t = size_t{1} << 34, CUDA_SUCCESS; }
CUresult cuMemcpyHtoD(CUdeviceptr d, const void* s, size_t n) {
  return std::memcpy(reinterpret_cast<void*>(d), s, n), CUDA_SUCCESS;
}
CUresult cuMemcpyHtoDAsync(CUdeviceptr d, const void* s, size_t n, CUstream) { return cuMemcpyHtoD(d, s, n); }
CUresult cuMemcpyDtoHAsync(void* d, CUdeviceptr s, size_t n, CUstream) {
  return std::memcpy(d, reinterpret_cast<void*>(s), n), CUDA_SUCCESS;
}
CUresult cuMemcpyDtoDAsync(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream) {
  return std::memmove(reinterpret_cast<void*>(d), reinterpret_cast<void*>(s), n), CUDA_SUCCESS;
}
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, CUstream) {
  return std::memset(reinterpret_cast<void*>(d), v, n), CUDA_SUCCESS;
}

CUresult cuStreamCreate(CUstream* s, unsigned) { return *s = reinterpret_cast<CUstream>(new char), CUDA_SUCCESS; }
CUresult cuStreamDestroy(CUstream s) { return delete reinterpret_cast<char*>(s), CUDA_SUCCESS; }
CUresult cuStreamSynchronize(CUstream) { return capturing ? CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED : CUDA_SUCCESS; }
CUresult cuEventCreate(CUevent* e, unsigned) { return *e = reinterpret_cast<CUevent>(new char), CUDA_SUCCESS; }
CUresult cuEventDestroy(CUevent e) { return delete reinterpret_cast<char*>(e), CUDA_SUCCESS; }
CUresult cuEventRecord(CUevent, CUstream) { return CUDA_SUCCESS; }
CUresult cuEventSynchronize(CUevent) { return CUDA_SUCCESS; }
CUresult cuEventElapsedTime(float* ms, CUevent, CUevent) { return *ms = 0, CUDA_SUCCESS; }

CUresult cuLaunchKernel(CUfunction f, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream,
                        void** params, void**) {
  Launch l = capture(f, params);
  if (capturing)
    captured.push_back(std::move(l));
  else
    run(l);
  return CUDA_SUCCESS;
}
CUresult cuLaunchCooperativeKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                   unsigned bz, unsigned shared, CUstream s, void** params) {
  return cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, s, params, nullptr);
}
CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int* n, CUfunction, int, size_t) { return *n = 1, CUDA_SUCCESS; }

CUresult cuStreamBeginCapture(CUstream, CUstreamCaptureMode) {
  capturing = true;
  captured.clear();
  return CUDA_SUCCESS;
}
CUresult cuStreamEndCapture(CUstream, CUgraph* g) {
  capturing = false;
  *g = reinterpret_cast<CUgraph>(new Graph{std::move(captured)});
  captured.clear();
  return CUDA_SUCCESS;
}
CUresult cuGraphInstantiate(CUgraphExec* e, CUgraph g, unsigned long long) {
  *e = reinterpret_cast<CUgraphExec>(new Graph(*reinterpret_cast<Graph*>(g)));
  return CUDA_SUCCESS;
}
CUresult cuGraphLaunch(CUgraphExec e, CUstream) {
  for (const Launch& l : reinterpret_cast<Graph*>(e)->launches) run(l);
  return CUDA_SUCCESS;
}
CUresult cuGraphExecDestroy(CUgraphExec e) { return delete reinterpret_cast<Graph*>(e), CUDA_SUCCESS; }
CUresult cuGraphDestroy(CUgraph g) { return delete reinterpret_cast<Graph*>(g), CUDA_SUCCESS; }

}  // extern "C"
