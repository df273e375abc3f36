/* The host side of a CUDA ahead-of-time object. backends/cuda/aot.cpp compiles this text into
 * every object, followed by the program's tables (sfc_program) and NAME_run, which calls sfc_run.
 *
 * It does for one run what the JIT's CudaExecutable and Recorder do (runtime.cpp, recorder.cpp),
 * from tables instead of the KernelProgram: loads the driver with dlopen (a program linking the
 * object starts without one), loads the embedded PTX, keeps the executor's pointer table (arena
 * buffers at their offsets, inputs and consts in their own allocations, carries swapped per step),
 * runs each scan region with its strategy in time blocks, and replays a top-level region's rows,
 * events and progress in the reference executor's order. Blocks run one after the other: a block's
 * recordings are copied out and replayed before the next starts (no overlap). A block whose events
 * overflow their buffer runs again, shorter, from a snapshot of the arena taken before it.
 *
 * Every function is static (two objects may be linked into one program); a failure long-jumps to
 * sfc_run, which frees what the run holds and returns the SF_AOT_* code. */
#include <cuda.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the tables the generator emits ---------------------------------------------------------- */

enum { SFC_LAUNCH, SFC_GRAPH, SFC_PERSISTENT, SFC_ELEMENTWISE }; /* a region's strategy */
enum { SFC_STACK, SFC_SINK, SFC_EVENTS };                        /* a per-step output's mode */
enum { SFC_NONE, SFC_ARENA, SFC_CONST, SFC_INPUT };              /* where a buffer lives */

typedef struct { int32_t where, index; int64_t offset, bytes; int32_t dsize, row_xs, row_depth; } sfc_buffer;
/* A pointer an op reads: a buffer (a row: its xs), a region's sink ring, or a region's scratch. */
typedef struct { int32_t buf, ring_region, ring_y, scratch_region; } sfc_slot;
typedef struct { const char* fn; int64_t n; int32_t slot0, nslots, segments; } sfc_op;
typedef struct { int32_t state, next, init; } sfc_carry;
typedef struct { int32_t mode, value, out, stream; } sfc_y;
typedef struct {
  const char* label;
  int32_t parent, depth, strategy, top;
  int64_t length, every;
  int32_t prologue0, nprologue, body0, nbody; /* into steps[]: op i >= 0, region -1 - r */
  int32_t bodyops0, nbodyops, record_op;      /* bodyops into ints[] */
  int32_t carry0, ncarries, y0, nys;
  const char* fn;                             /* persistent / elementwise kernel */
  int32_t table0, ntable, one_block;          /* its slot table, into slots[] */
  int64_t threads;
  int32_t scalar0, nscalars;                  /* elementwise: Scalar carries, into ints[] */
} sfc_region;
typedef struct { const char* what; int64_t limit; int32_t region; } sfc_error;
typedef struct {
  const char* ptx;
  int32_t nbuffers, nregions, max_slots, top0, ntop; /* the top-level steps are steps[top0..] */
  const sfc_buffer* buffers;
  const sfc_op* ops;
  int32_t nops;
  const sfc_slot* slots;
  const sfc_region* regions;
  const int32_t* steps;
  const int32_t* ints;
  const sfc_carry* carries;
  const sfc_y* ys;
  const sfc_error* errors;
  const void* const* consts; /* per buffer: a const's bytes, else NULL */
  int32_t ninputs, nresults;
  const int32_t* inputs;     /* buffers */
  const int32_t* results;
  int64_t arena_bytes;
  uint64_t event_cap;        /* events per block buffer to start with; 0: guessed */
} sfc_program;

/* ---- device-side structures (mirrors of the generated prelude; backends/cuda/runtime.h) ------ */

typedef struct { uint32_t flag; int32_t id; int64_t value, pos; int64_t k[8]; } sfc_err;
typedef struct { int64_t step, index; } sfc_event;
typedef struct { uint64_t count, cap; CUdeviceptr data; } sfc_evbuf;
typedef struct { int64_t step, ring_rows; int32_t half, use_step; } sfc_dev;
typedef struct { int64_t k[8]; CUdeviceptr dev, err, ev; int64_t nev; } sfc_ctx;

/* ---- the driver, loaded with dlopen as the JIT does (driver.cpp) ----------------------------- */

#define SFC_DRIVER(X)                                                                                  \
  X(cuInit) X(cuGetErrorName) X(cuGetErrorString) X(cuDeviceGetCount) X(cuDeviceGet)                   \
  X(cuDeviceGetAttribute) X(cuDevicePrimaryCtxRetain) X(cuCtxSetCurrent) X(cuModuleLoadData)           \
  X(cuModuleUnload) X(cuModuleGetFunction) X(cuMemAlloc) X(cuMemFree) X(cuMemGetInfo)                 \
  X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync) X(cuMemcpyDtoDAsync) X(cuMemsetD8Async) X(cuStreamCreate) \
  X(cuStreamDestroy) X(cuStreamSynchronize) X(cuLaunchKernel) X(cuLaunchCooperativeKernel)             \
  X(cuOccupancyMaxActiveBlocksPerMultiprocessor) X(cuStreamBeginCapture) X(cuStreamEndCapture)         \
  X(cuGraphInstantiate) X(cuGraphLaunch) X(cuGraphExecDestroy) X(cuGraphDestroy)
#define SFC_STR2(x) #x
#define SFC_STR(x) SFC_STR2(x) /* <cuda.h> maps some names to versioned symbols (cuMemAlloc_v2) */

typedef struct {
#define SFC_DECLARE(name) __typeof__(&name) name;
  SFC_DRIVER(SFC_DECLARE)
#undef SFC_DECLARE
} sfc_driver;

/* ---- the run --------------------------------------------------------------------------------- */

typedef struct sfc_rec sfc_rec;
typedef struct {
  const sfc_program* P;
  const sf_aot_options* opt;
  jmp_buf fail;
  int code;
  char msg[2048];
  sfc_driver d;
  int sms, cooperative;
  CUmodule module;
  CUstream stream;
  CUdeviceptr arena, err, dev;
  CUdeviceptr* ptr;      /* the executor's pointer table */
  int64_t k[8];          /* the step of each nesting depth */
  CUdeviceptr *tables, *scratch;
  CUgraphExec* graphs;   /* [region][2] */
  CUfunction *op_fn, *region_fn, advance;
  CUdeviceptr* slot_args;
  sfc_rec* rec;          /* the top-level region being streamed */
  int active;            /* regions being run */
  int64_t chunk_rows, event_chunk;
  CUdeviceptr* dallocs;  /* everything allocated, freed at the end */
  void** hallocs;
  size_t ndallocs, nhallocs;
} sfc_state;

static void sfc_fail(sfc_state* R, int code, const char* fmt, ...) {
  va_list a;
  va_start(a, fmt);
  vsnprintf(R->msg, sizeof R->msg, fmt, a);
  va_end(a);
  R->code = code;
  longjmp(R->fail, 1);
}

static const char* sfc_result_name(sfc_state* R, CUresult r, const char** text) {
  const char* name = 0;
  *text = "";
  if (R->d.cuGetErrorName) R->d.cuGetErrorName(r, &name);
  if (R->d.cuGetErrorString) R->d.cuGetErrorString(r, text);
  return name ? name : "an unknown CUresult";
}

/* "CUDA error in WHAT: NAME (description)", as the JIT's check(). */
static void sfc_check(sfc_state* R, CUresult r, const char* what) {
  if (r == CUDA_SUCCESS) return;
  const char* text;
  const char* name = sfc_result_name(R, r, &text);
  sfc_fail(R, SF_AOT_NO_DEVICE, "CUDA error in %s: %s (%s)", what, name, text);
}
#define SFC_CK(call, what) sfc_check(R, R->d.call, what)

static void* sfc_malloc(sfc_state* R, size_t bytes) {
  void** list = (void**)realloc(R->hallocs, (R->nhallocs + 1) * sizeof(void*));
  if (!list) sfc_fail(R, SF_AOT_NO_MEMORY, "out of memory (%zu bytes)", bytes);
  R->hallocs = list;
  void* p = calloc(1, bytes ? bytes : 1);
  if (!p) sfc_fail(R, SF_AOT_NO_MEMORY, "out of memory (%zu bytes)", bytes);
  return R->hallocs[R->nhallocs++] = p;
}

/* Device memory, never zero bytes (every buffer gets an address), as the JIT's alloc(). */
static CUdeviceptr sfc_alloc(sfc_state* R, int64_t bytes) {
  size_t n = (size_t)(bytes > 64 ? bytes : 64);
  CUdeviceptr* list = (CUdeviceptr*)realloc(R->dallocs, (R->ndallocs + 1) * sizeof(CUdeviceptr));
  if (!list) sfc_fail(R, SF_AOT_NO_MEMORY, "out of memory (%zu bytes)", sizeof(CUdeviceptr));
  R->dallocs = list;
  CUdeviceptr p = 0;
  CUresult r = R->d.cuMemAlloc(&p, n);
  if (r == CUDA_ERROR_OUT_OF_MEMORY) {
    size_t free_b = 0, total = 0;
    R->d.cuMemGetInfo(&free_b, &total);
    sfc_fail(R, SF_AOT_NO_MEMORY, "out of device memory: %zu bytes asked (%zu of %zu bytes free)", n, free_b, total);
  }
  sfc_check(R, r, "cuMemAlloc");
  return R->dallocs[R->ndallocs++] = p;
}

static void sfc_load_driver(sfc_state* R) {
  const char* env = getenv("SCANFLOW_LIBCUDA");
  const char* lib = env && *env ? env : "libcuda.so.1";
  void* h = dlopen(lib, RTLD_NOW | RTLD_LOCAL); /* stays loaded for the life of the process */
  if (!h) {
    const char* why = dlerror();
    if (!why) why = "cannot be loaded";
    if (strncmp(why, lib, strlen(lib)) == 0) sfc_fail(R, SF_AOT_NO_DEVICE, "no CUDA driver (%s)", why);
    sfc_fail(R, SF_AOT_NO_DEVICE, "no CUDA driver (%s: %s)", lib, why);
  }
#define SFC_LOAD(name)                                                                                    \
  *(void**)&R->d.name = dlsym(h, SFC_STR(name));                                                          \
  if (!R->d.name) sfc_fail(R, SF_AOT_NO_DEVICE, "no CUDA driver (%s lacks %s; the driver is too old)", lib, \
                           SFC_STR(name));
  SFC_DRIVER(SFC_LOAD)
#undef SFC_LOAD
  CUresult r = R->d.cuInit(0);
  if (r == CUDA_ERROR_STUB_LIBRARY) sfc_fail(R, SF_AOT_NO_DEVICE, "no CUDA driver (%s is the CUDA toolkit's stub library)", lib);
  if (r == CUDA_ERROR_NO_DEVICE) sfc_fail(R, SF_AOT_NO_DEVICE, "no CUDA device (cuInit found none)");
  if (r != CUDA_SUCCESS) {
    const char* text;
    const char* name = sfc_result_name(R, r, &text);
    sfc_fail(R, SF_AOT_NO_DEVICE, "no CUDA device (cuInit: %s (%s))", name, text);
  }
  int count = 0;
  SFC_CK(cuDeviceGetCount(&count), "cuDeviceGetCount");
  if (count == 0) sfc_fail(R, SF_AOT_NO_DEVICE, "no CUDA device (the driver reports none)");
  CUdevice dev;
  CUcontext ctx;
  SFC_CK(cuDeviceGet(&dev, 0), "cuDeviceGet");
  SFC_CK(cuDeviceGetAttribute(&R->sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev), "cuDeviceGetAttribute");
  SFC_CK(cuDeviceGetAttribute(&R->cooperative, CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH, dev), "cuDeviceGetAttribute");
  SFC_CK(cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain"); /* kept, as the JIT keeps it */
  SFC_CK(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
}

static CUfunction sfc_function(sfc_state* R, CUfunction* cache, const char* name) {
  if (!*cache) SFC_CK(cuModuleGetFunction(cache, R->module, name), "cuModuleGetFunction");
  return *cache;
}

/* ---- the pointer table ----------------------------------------------------------------------- */

static const sfc_region* sfc_reg(sfc_state* R, int id) { return &R->P->regions[id]; }

static void sfc_swap_carries(sfc_state* R, const sfc_region* g, CUdeviceptr* ptr) {
  for (int i = 0; i < g->ncarries; ++i) {
    const sfc_carry* c = &R->P->carries[g->carry0 + i];
    if (c->next < 0) continue;
    CUdeviceptr t = ptr[c->state];
    ptr[c->state] = ptr[c->next], ptr[c->next] = t;
  }
}

/* Where buffer b is now (a row: its xs at the current step of its scan). */
static CUdeviceptr sfc_actual(sfc_state* R, int b) {
  const sfc_buffer* x = &R->P->buffers[b];
  if (x->row_xs < 0) return R->ptr[b];
  return sfc_actual(R, x->row_xs) + (CUdeviceptr)(R->k[x->row_depth] * x->bytes);
}

static CUdeviceptr sfc_ring(sfc_state* R, int region, int y);

static CUdeviceptr sfc_resolve(sfc_state* R, const sfc_slot* s, const CUdeviceptr* ptr) {
  if (s->scratch_region >= 0) return R->scratch[s->scratch_region];
  if (s->ring_region >= 0) return sfc_ring(R, s->ring_region, s->ring_y);
  int xs = R->P->buffers[s->buf].row_xs;
  return ptr[xs >= 0 ? xs : s->buf]; /* a row: its xs (the op adds the row offset) */
}

/* ---- launches -------------------------------------------------------------------------------- */

static sfc_ctx sfc_context(sfc_state* R);

static void sfc_launch(sfc_state* R, CUfunction f, int64_t blocks, int threads, void** params, int cooperative) {
  unsigned g = (unsigned)(blocks > 1 ? blocks : 1);
  if (cooperative)
    SFC_CK(cuLaunchCooperativeKernel(f, g, 1, 1, (unsigned)threads, 1, 1, 0, R->stream, params), "cuLaunchCooperativeKernel");
  else
    SFC_CK(cuLaunchKernel(f, g, 1, 1, (unsigned)threads, 1, 1, 0, R->stream, params, 0), "cuLaunchKernel");
}

static void sfc_launch_op(sfc_state* R, int op) {
  const sfc_op* o = &R->P->ops[op];
  if (o->n == 0) return;
  CUdeviceptr* slots = R->slot_args;
  slots[0] = 0;
  for (int i = 0; i < o->nslots; ++i) slots[i] = sfc_resolve(R, &R->P->slots[o->slot0 + i], R->ptr);
  sfc_ctx c = sfc_context(R);
  void* params[] = {slots, &c};
  int64_t blocks = (o->n + 255) / 256, most = (int64_t)R->sms * 8;
  sfc_launch(R, sfc_function(R, &R->op_fn[op], o->fn), blocks < most ? blocks : most, 256, params, 0);
}

/* The reference executor's message: the check's, wrapped in "label step k: " by every enclosing scan. */
static void sfc_raise(sfc_state* R, const sfc_err* e) {
  const sfc_error* site = &R->P->errors[e->id];
  char msg[2048], pre[512];
  snprintf(msg, sizeof msg, "%s: index %lld out of range [0, %lld) at position %lld", site->what, (long long)e->value,
           (long long)site->limit, (long long)e->pos);
  for (int r = site->region; r >= 0; r = sfc_reg(R, r)->parent) { /* prepend "label step k: " (a long message is cut) */
    snprintf(pre, sizeof pre, "%s step %lld: ", sfc_reg(R, r)->label, (long long)e->k[sfc_reg(R, r)->depth]);
    size_t lp = strlen(pre), lm = strlen(msg);
    if (lp + lm >= sizeof msg) lm = sizeof msg - 1 - lp;
    memmove(msg + lp, msg, lm);
    memcpy(msg, pre, lp);
    msg[lp + lm] = 0;
  }
  sfc_fail(R, SF_AOT_INDEX_ERROR, "%s", msg);
}

static void sfc_read_error(sfc_state* R, sfc_err* e) {
  SFC_CK(cuMemcpyDtoHAsync(e, R->err, sizeof *e, R->stream), "cuMemcpyDtoHAsync");
  SFC_CK(cuStreamSynchronize(R->stream), "cuStreamSynchronize");
}

static void sfc_check_error(sfc_state* R) {
  sfc_err e;
  sfc_read_error(R, &e);
  if (e.flag) sfc_raise(R, &e);
}

static void sfc_region_run(sfc_state* R, int id);

static void sfc_steps(sfc_state* R, int32_t first, int32_t n) {
  for (int32_t i = 0; i < n; ++i) {
    int32_t s = R->P->steps[first + i];
    if (s < 0) {
      sfc_region_run(R, -1 - s);
      continue;
    }
    sfc_launch_op(R, s);
    if (R->P->ops[s].segments && R->active == 0) sfc_check_error(R); /* a bad index stops here, as the reference */
  }
}

/* ---- streaming a top-level region (the JIT's Recorder, one block at a time) ------------------ */

struct sfc_rec {
  int region;
  int64_t steps, ring_rows;      /* steps per block; rows the sink rings hold */
  int nev;                       /* outputs in events mode */
  CUdeviceptr* rings;            /* per y (sink) */
  char** rows;                   /* per y: the block's rows, copied out */
  char** chunk;                  /* per y: the rows not sent yet */
  int64_t *filled, *sent;        /* per y */
  int64_t** pairs;               /* per y: the events not sent yet, (index, step) */
  int64_t* npairs;
  uint64_t cap;                  /* events per block buffer */
  CUdeviceptr evbufs, snapshot;  /* the event buffers' headers; the arena before the block */
  CUdeviceptr* event_data;       /* per events output */
  sfc_event** block_events;      /* per events output: the block's, sorted */
  uint64_t *nblock, *next;
};

static CUdeviceptr sfc_ring(sfc_state* R, int region, int y) {
  if (!R->rec || R->rec->region != region) sfc_fail(R, SF_AOT_NO_DEVICE, "internal error: a ring asked outside its region");
  return R->rec->rings[y];
}

static sfc_ctx sfc_context(sfc_state* R) {
  sfc_ctx c;
  memset(&c, 0, sizeof c);
  memcpy(c.k, R->k, sizeof c.k);
  c.dev = R->dev, c.err = R->err;
  if (R->rec) c.ev = R->rec->evbufs, c.nev = R->rec->nev;
  return c;
}

static int64_t sfc_value_bytes(sfc_state* R, const sfc_y* y) { return R->P->buffers[y->value].bytes; }

static void sfc_alloc_events(sfc_state* R, sfc_rec* q, uint64_t cap) {
  q->cap = cap;
  for (int j = 0; j < q->nev; ++j) {
    q->event_data[j] = sfc_alloc(R, (int64_t)(cap * sizeof(sfc_event)));
    q->block_events[j] = (sfc_event*)sfc_malloc(R, cap * sizeof(sfc_event));
  }
}

static sfc_rec* sfc_rec_open(sfc_state* R, int id, int64_t steps) {
  const sfc_region* g = sfc_reg(R, id);
  sfc_rec* q = (sfc_rec*)sfc_malloc(R, sizeof *q);
  q->region = id, q->steps = steps;
  q->ring_rows = steps / g->every > 1 ? steps / g->every : 1;
  size_t ny = (size_t)g->nys;
  q->rings = (CUdeviceptr*)sfc_malloc(R, ny * sizeof(CUdeviceptr));
  q->rows = (char**)sfc_malloc(R, ny * sizeof(char*));
  q->chunk = (char**)sfc_malloc(R, ny * sizeof(char*));
  q->filled = (int64_t*)sfc_malloc(R, ny * sizeof(int64_t));
  q->sent = (int64_t*)sfc_malloc(R, ny * sizeof(int64_t));
  q->pairs = (int64_t**)sfc_malloc(R, ny * sizeof(int64_t*));
  q->npairs = (int64_t*)sfc_malloc(R, ny * sizeof(int64_t));
  int64_t event_elements = 0;
  for (int y = 0; y < g->nys; ++y) {
    const sfc_y* o = &R->P->ys[g->y0 + y];
    int64_t vb = sfc_value_bytes(R, o);
    if (o->mode == SFC_SINK) {
      q->rings[y] = sfc_alloc(R, q->ring_rows * vb);
      q->rows[y] = (char*)sfc_malloc(R, (size_t)(q->ring_rows * vb));
      /* chunk_rows rows, or all the scan records when fewer (as the JIT's sink_chunk_rows) */
      int64_t all = g->length / g->every > 1 ? g->length / g->every : 1;
      q->chunk[y] = (char*)sfc_malloc(R, (size_t)((R->chunk_rows < all ? R->chunk_rows : all) * vb));
    }
    if (o->mode == SFC_EVENTS) {
      q->pairs[y] = (int64_t*)sfc_malloc(R, (size_t)R->event_chunk * 2 * sizeof(int64_t));
      int64_t e = vb; /* (bool elements: one byte each) */
      if (e > event_elements) event_elements = e;
      ++q->nev;
    }
  }
  q->evbufs = sfc_alloc(R, (int64_t)((q->nev > 0 ? q->nev : 1) * sizeof(sfc_evbuf)));
  if (q->nev > 0) {
    q->event_data = (CUdeviceptr*)sfc_malloc(R, (size_t)q->nev * sizeof(CUdeviceptr));
    q->block_events = (sfc_event**)sfc_malloc(R, (size_t)q->nev * sizeof(sfc_event*));
    q->nblock = (uint64_t*)sfc_malloc(R, (size_t)q->nev * sizeof(uint64_t));
    q->next = (uint64_t*)sfc_malloc(R, (size_t)q->nev * sizeof(uint64_t));
    /* The JIT's guess at a block's events (a quarter of the elements true at every step), bounded. */
    int64_t guess = steps * event_elements / 4;
    guess = guess < (1 << 16) ? (1 << 16) : guess > (1 << 24) ? (1 << 24) : guess;
    sfc_alloc_events(R, q, R->P->event_cap ? R->P->event_cap : (uint64_t)guess);
    q->snapshot = sfc_alloc(R, R->P->arena_bytes);
  }
  return q;
}

static void sfc_stopped(sfc_state* R, const char* by) { sfc_fail(R, SF_AOT_STOPPED, "stopped by the %s callback", by); }

static void sfc_flush_rows(sfc_state* R, sfc_rec* q, int y) {
  const sfc_y* o = &R->P->ys[sfc_reg(R, q->region)->y0 + y];
  if (q->filled[y] == 0) return;
  const sf_aot_options* opt = R->opt;
  if (opt->rows && opt->rows(opt->ctx, o->stream, q->chunk[y], q->filled[y], q->sent[y])) sfc_stopped(R, "rows");
  q->sent[y] += q->filled[y];
  q->filled[y] = 0;
}

static void sfc_flush_events(sfc_state* R, sfc_rec* q, int y) {
  const sfc_y* o = &R->P->ys[sfc_reg(R, q->region)->y0 + y];
  if (q->npairs[y] == 0) return;
  const sf_aot_options* opt = R->opt;
  if (opt->events && opt->events(opt->ctx, o->stream, q->pairs[y], q->npairs[y])) sfc_stopped(R, "events");
  q->npairs[y] = 0;
}

/* The reference executor's record(k) and progress calls for steps [k0, end). */
static void sfc_replay(sfc_state* R, sfc_rec* q, int64_t k0, int64_t end) {
  const sfc_region* g = sfc_reg(R, q->region);
  int64_t every_pct = g->length / 100 > 1 ? g->length / 100 : 1, row0 = k0 / g->every;
  for (int64_t k = k0; k < end; ++k) {
    int recorded = (k + 1) % g->every == 0;
    int64_t row = (k + 1) / g->every - 1;
    int j = 0;
    for (int y = 0; y < g->nys; ++y) {
      const sfc_y* o = &R->P->ys[g->y0 + y];
      int64_t vb = sfc_value_bytes(R, o);
      if (o->mode == SFC_SINK && recorded) {
        memcpy(q->chunk[y] + q->filled[y] * vb, q->rows[y] + (row - row0) * vb, (size_t)vb);
        if (++q->filled[y] == R->chunk_rows) sfc_flush_rows(R, q, y);
      }
      if (o->mode != SFC_EVENTS) continue;
      for (uint64_t* i = &q->next[j]; *i < q->nblock[j] && q->block_events[j][*i].step == k; ++*i) {
        q->pairs[y][2 * q->npairs[y]] = q->block_events[j][*i].index;
        q->pairs[y][2 * q->npairs[y] + 1] = k;
        ++q->sent[y];
        if (++q->npairs[y] == R->event_chunk) sfc_flush_events(R, q, y);
      }
      ++j;
    }
    const sf_aot_options* opt = R->opt;
    if ((k + 1) % every_pct == 0 && opt->progress && opt->progress(opt->ctx, q->region, k + 1, g->length))
      sfc_stopped(R, "progress");
  }
}

static int sfc_event_order(const void* a, const void* b) {
  const sfc_event *x = (const sfc_event*)a, *y = (const sfc_event*)b;
  if (x->step != y->step) return x->step < y->step ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static void sfc_block(sfc_state* R, int id, int64_t k0, int64_t k1);

/* Runs the region's steps block by block, replaying each block's recordings before the next. */
static void sfc_rec_run(sfc_state* R, sfc_rec* q) {
  const sfc_region* g = sfc_reg(R, q->region);
  size_t table_bytes = (size_t)R->P->nbuffers * sizeof(CUdeviceptr);
  CUdeviceptr* saved = (CUdeviceptr*)sfc_malloc(R, table_bytes);
  sfc_evbuf* heads = (sfc_evbuf*)sfc_malloc(R, (size_t)(q->nev > 0 ? q->nev : 1) * sizeof(sfc_evbuf));
  for (int64_t k0 = 0; k0 < g->length;) {
    int64_t k1 = g->length < k0 + q->steps ? g->length : k0 + q->steps;
    memcpy(saved, R->ptr, table_bytes);
    if (q->nev > 0) {
      SFC_CK(cuMemcpyDtoDAsync(q->snapshot, R->arena, (size_t)R->P->arena_bytes, R->stream), "cuMemcpyDtoDAsync");
      for (int j = 0; j < q->nev; ++j) heads[j].count = 0, heads[j].cap = q->cap, heads[j].data = q->event_data[j];
      SFC_CK(cuMemcpyHtoDAsync(q->evbufs, heads, (size_t)q->nev * sizeof(sfc_evbuf), R->stream), "cuMemcpyHtoDAsync");
    }
    sfc_block(R, q->region, k0, k1);
    sfc_err err;
    sfc_read_error(R, &err);
    int overflow = 0;
    if (q->nev > 0) {
      SFC_CK(cuMemcpyDtoHAsync(heads, q->evbufs, (size_t)q->nev * sizeof(sfc_evbuf), R->stream), "cuMemcpyDtoHAsync");
      SFC_CK(cuStreamSynchronize(R->stream), "cuStreamSynchronize");
      for (int j = 0; j < q->nev; ++j) overflow |= heads[j].count > heads[j].cap;
    }
    if (overflow && !err.flag) {
      /* Too many events: back to the state before the block, and a shorter block (or bigger buffers). */
      SFC_CK(cuMemcpyDtoDAsync(R->arena, q->snapshot, (size_t)R->P->arena_bytes, R->stream), "cuMemcpyDtoDAsync");
      SFC_CK(cuMemsetD8Async(R->err, 0, sizeof(sfc_err), R->stream), "cuMemsetD8Async");
      memcpy(R->ptr, saved, table_bytes);
      if (q->steps >= 2 * g->every)
        q->steps = q->steps / 2 / g->every * g->every;
      else
        sfc_alloc_events(R, q, q->cap * 2);
      continue;
    }
    /* The block's rows, from the ring (which may wrap). */
    int64_t row0 = k0 / g->every, rows = k1 / g->every - row0;
    for (int y = 0; y < g->nys; ++y) {
      const sfc_y* o = &R->P->ys[g->y0 + y];
      if (o->mode != SFC_SINK) continue;
      int64_t vb = sfc_value_bytes(R, o);
      for (int64_t done = 0; done < rows;) {
        int64_t at = (row0 + done) % q->ring_rows, n = rows - done < q->ring_rows - at ? rows - done : q->ring_rows - at;
        SFC_CK(cuMemcpyDtoHAsync(q->rows[y] + done * vb, q->rings[y] + (CUdeviceptr)(at * vb), (size_t)(n * vb), R->stream),
               "cuMemcpyDtoHAsync");
        done += n;
      }
    }
    for (int j = 0; j < q->nev; ++j) {
      q->nblock[j] = heads[j].count < heads[j].cap ? heads[j].count : heads[j].cap;
      q->next[j] = 0;
      if (q->nblock[j] > 0)
        SFC_CK(cuMemcpyDtoHAsync(q->block_events[j], q->event_data[j], q->nblock[j] * sizeof(sfc_event), R->stream),
               "cuMemcpyDtoHAsync");
    }
    SFC_CK(cuStreamSynchronize(R->stream), "cuStreamSynchronize");
    for (int j = 0; j < q->nev; ++j) qsort(q->block_events[j], q->nblock[j], sizeof(sfc_event), sfc_event_order);
    int64_t end = !err.flag ? k1 : err.k[0] < k0 ? k0 : err.k[0] > k1 ? k1 : err.k[0];
    sfc_replay(R, q, k0, end);
    if (err.flag) sfc_raise(R, &err);
    k0 = k1;
  }
  /* The reference's last flushes, and the counts into the outputs. */
  for (int y = 0; y < g->nys; ++y) {
    const sfc_y* o = &R->P->ys[g->y0 + y];
    if (o->mode == SFC_STACK) continue;
    if (o->mode == SFC_SINK) sfc_flush_rows(R, q, y);
    if (o->mode == SFC_EVENTS) sfc_flush_events(R, q, y);
    SFC_CK(cuMemcpyHtoDAsync(R->ptr[o->out], &q->sent[y], sizeof(int64_t), R->stream), "cuMemcpyHtoDAsync");
  }
  SFC_CK(cuStreamSynchronize(R->stream), "cuStreamSynchronize");
}

/* ---- scan regions (the JIT's CudaExecutable::region and block) ------------------------------- */

/* The region kernel's slot table: its slots resolved as at even steps, then as at odd steps. */
static void sfc_upload_table(sfc_state* R, int id) {
  const sfc_region* g = sfc_reg(R, id);
  size_t n = (size_t)g->ntable, table_bytes = (size_t)R->P->nbuffers * sizeof(CUdeviceptr);
  CUdeviceptr* t = (CUdeviceptr*)sfc_malloc(R, 2 * n * sizeof(CUdeviceptr) + table_bytes);
  CUdeviceptr* odd = t + 2 * n;
  memcpy(odd, R->ptr, table_bytes);
  sfc_swap_carries(R, g, odd);
  for (size_t i = 0; i < n; ++i) {
    t[i] = sfc_resolve(R, &R->P->slots[g->table0 + (int)i], R->ptr);
    t[n + i] = sfc_resolve(R, &R->P->slots[g->table0 + (int)i], odd);
  }
  if (!R->tables[id]) R->tables[id] = sfc_alloc(R, (int64_t)(2 * n * sizeof(CUdeviceptr)));
  SFC_CK(cuMemcpyHtoDAsync(R->tables[id], t, 2 * n * sizeof(CUdeviceptr), R->stream), "cuMemcpyHtoDAsync");
  SFC_CK(cuStreamSynchronize(R->stream), "cuStreamSynchronize"); /* (t is freed only at the end; cheap to be sure) */
}

/* One step's launches captured twice (as at even and at odd steps); the step number comes from
 * device memory, advanced by the graph's last node. */
static void sfc_capture_graphs(sfc_state* R, int id) {
  const sfc_region* g = sfc_reg(R, id);
  size_t table_bytes = (size_t)R->P->nbuffers * sizeof(CUdeviceptr);
  CUdeviceptr* saved = (CUdeviceptr*)sfc_malloc(R, table_bytes);
  memcpy(saved, R->ptr, table_bytes);
  for (int i = 0; i < g->nbodyops; ++i) { /* (no module calls while capturing) */
    int op = R->P->ints[g->bodyops0 + i];
    sfc_function(R, &R->op_fn[op], R->P->ops[op].fn);
  }
  if (g->record_op >= 0) sfc_function(R, &R->op_fn[g->record_op], R->P->ops[g->record_op].fn);
  CUfunction advance = sfc_function(R, &R->advance, "sf_advance");
  for (int parity = 0; parity < 2; ++parity) {
    CUgraphExec* exec = &R->graphs[2 * id + parity];
    if (*exec) R->d.cuGraphExecDestroy(*exec), *exec = 0;
    SFC_CK(cuStreamBeginCapture(R->stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture");
    for (int i = 0; i < g->nbodyops; ++i) sfc_launch_op(R, R->P->ints[g->bodyops0 + i]);
    if (g->record_op >= 0) sfc_launch_op(R, g->record_op);
    sfc_ctx c = sfc_context(R);
    void* params[] = {&c};
    sfc_launch(R, advance, 1, 1, params, 0);
    CUgraph graph = 0;
    SFC_CK(cuStreamEndCapture(R->stream, &graph), "cuStreamEndCapture");
    CUresult r = R->d.cuGraphInstantiate(exec, graph, 0);
    R->d.cuGraphDestroy(graph);
    sfc_check(R, r, "cuGraphInstantiate");
    sfc_swap_carries(R, g, R->ptr);
  }
  memcpy(R->ptr, saved, table_bytes);
}

/* The device-side step, ring size and event half of the top-level region being run. */
static void sfc_set_dev(sfc_state* R, const sfc_region* g, int64_t k0) {
  if (g->depth > 0) return;
  sfc_dev h;
  memset(&h, 0, sizeof h);
  h.step = k0;
  h.ring_rows = R->rec ? R->rec->ring_rows : 1;
  h.half = 0;
  h.use_step = g->strategy == SFC_GRAPH;
  SFC_CK(cuMemcpyHtoDAsync(R->dev, &h, sizeof h, R->stream), "cuMemcpyHtoDAsync");
  SFC_CK(cuStreamSynchronize(R->stream), "cuStreamSynchronize"); /* (h is on the stack) */
}

/* Steps [k0, k1) of a region with its strategy; the pointer table ends as the reference's. */
static void sfc_block(sfc_state* R, int id, int64_t k0, int64_t k1) {
  const sfc_region* g = sfc_reg(R, id);
  sfc_set_dev(R, g, k0);
  if (k0 == 0 && g->nprologue > 0) { /* loop-invariant steps, as at step 0 */
    R->k[g->depth] = 0;
    sfc_steps(R, g->prologue0, g->nprologue);
    sfc_set_dev(R, g, k0);
  }
  if (g->strategy == SFC_LAUNCH) {
    for (int64_t k = k0; k < k1; ++k) {
      R->k[g->depth] = k;
      sfc_steps(R, g->body0, g->nbody);
      if (g->record_op >= 0) sfc_launch_op(R, g->record_op);
      sfc_swap_carries(R, g, R->ptr);
    }
    return;
  }
  if (g->strategy == SFC_GRAPH) {
    for (int64_t k = k0; k < k1; ++k) SFC_CK(cuGraphLaunch(R->graphs[2 * id + (k & 1)], R->stream), "cuGraphLaunch");
  } else {
    CUdeviceptr tab = R->tables[id];
    sfc_ctx c = sfc_context(R);
    long long a = k0, b = k1;
    void* params[] = {&tab, &c, &a, &b};
    CUfunction f = sfc_function(R, &R->region_fn[id], g->fn);
    if (g->strategy == SFC_ELEMENTWISE) {
      sfc_launch(R, f, (g->threads + 127) / 128, 128, params, 0);
      /* The Scalar carries, from the scratch words to where they are as at step k1. */
      size_t table_bytes = (size_t)R->P->nbuffers * sizeof(CUdeviceptr);
      CUdeviceptr* end = (CUdeviceptr*)malloc(table_bytes);
      if (!end) sfc_fail(R, SF_AOT_NO_MEMORY, "out of memory (%zu bytes)", table_bytes);
      memcpy(end, R->ptr, table_bytes);
      if ((k1 - k0) % 2) sfc_swap_carries(R, g, end);
      for (int j = 0; j < g->nscalars; ++j) {
        int s = R->P->ints[g->scalar0 + j];
        CUresult r = R->d.cuMemcpyDtoDAsync(end[s], R->scratch[id] + 8 * (CUdeviceptr)j, (size_t)R->P->buffers[s].dsize, R->stream);
        if (r != CUDA_SUCCESS) free(end);
        sfc_check(R, r, "cuMemcpyDtoDAsync");
      }
      free(end);
    } else if (g->one_block) {
      sfc_launch(R, f, 1, 1024, params, 0);
    } else {
      int per_sm = 0;
      SFC_CK(cuOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, f, 256, 0), "cuOccupancyMaxActiveBlocksPerMultiprocessor");
      if (per_sm < 1) sfc_fail(R, SF_AOT_NO_DEVICE, "%s: the persistent kernel does not fit on a multiprocessor", g->label);
      int64_t want = (g->threads + 255) / 256, most = (int64_t)per_sm * R->sms;
      sfc_launch(R, f, want < most ? want : most, 256, params, 1);
    }
  }
  if ((k1 - k0) % 2) sfc_swap_carries(R, g, R->ptr);
}

static void sfc_region_run(sfc_state* R, int id) {
  const sfc_region* g = sfc_reg(R, id);
  for (int i = 0; i < g->ncarries; ++i) {
    const sfc_carry* c = &R->P->carries[g->carry0 + i];
    CUdeviceptr s = sfc_actual(R, c->state), v = sfc_actual(R, c->init);
    if (s != v) SFC_CK(cuMemcpyDtoDAsync(s, v, (size_t)R->P->buffers[c->state].bytes, R->stream), "cuMemcpyDtoDAsync");
  }
  if (g->length == 0) return;
  int streams = g->top && g->depth == 0; /* an object always has a sink: the callbacks */
  int64_t steps = g->strategy == SFC_ELEMENTWISE ? 8192 : 1024;
  steps = steps / g->every * g->every > g->every ? steps / g->every * g->every : g->every;
  if (!streams && g->depth > 0) steps = g->length;
  if (g->strategy == SFC_PERSISTENT && !g->one_block && !R->cooperative)
    sfc_fail(R, SF_AOT_NO_DEVICE, "%s: the persistent kernel needs cooperative launches, which the device lacks (compile with --scan-strategy graph)", g->label);
  sfc_rec* outer = R->rec;
  if (streams) R->rec = sfc_rec_open(R, id, steps);
  ++R->active;
  /* Tables and graphs hold the pointers as at even and at odd steps, taken at step 0. */
  if (g->strategy == SFC_PERSISTENT || g->strategy == SFC_ELEMENTWISE) sfc_upload_table(R, id);
  if (g->strategy == SFC_GRAPH) sfc_capture_graphs(R, id);
  if (!streams) {
    for (int64_t k0 = 0; k0 < g->length; k0 += steps) sfc_block(R, id, k0, g->length < k0 + steps ? g->length : k0 + steps);
  } else {
    sfc_rec_run(R, R->rec);
  }
  R->k[g->depth] = 0;
  --R->active;
  R->rec = outer;
}

/* ---- one run --------------------------------------------------------------------------------- */

static void sfc_cleanup(sfc_state* R) {
  if (R->stream) R->d.cuStreamSynchronize(R->stream); /* nothing in flight uses what is freed */
  for (int i = 0; R->graphs && i < 2 * R->P->nregions; ++i)
    if (R->graphs[i]) R->d.cuGraphExecDestroy(R->graphs[i]);
  for (size_t i = 0; i < R->ndallocs; ++i) R->d.cuMemFree(R->dallocs[i]);
  if (R->stream) R->d.cuStreamDestroy(R->stream);
  if (R->module) R->d.cuModuleUnload(R->module);
  for (size_t i = 0; i < R->nhallocs; ++i) free(R->hallocs[i]);
  free(R->dallocs);
  free(R->hallocs);
}

static void sfc_body(sfc_state* R, const void* const* inputs, void* const* results) {
  const sfc_program* P = R->P;
  sfc_load_driver(R);
  SFC_CK(cuModuleLoadData(&R->module, P->ptx), "cuModuleLoadData");
  SFC_CK(cuStreamCreate(&R->stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  size_t nr = (size_t)(P->nregions > 0 ? P->nregions : 1), nb = (size_t)(P->nbuffers > 0 ? P->nbuffers : 1);
  R->ptr = (CUdeviceptr*)sfc_malloc(R, nb * sizeof(CUdeviceptr));
  R->tables = (CUdeviceptr*)sfc_malloc(R, nr * sizeof(CUdeviceptr));
  R->scratch = (CUdeviceptr*)sfc_malloc(R, nr * sizeof(CUdeviceptr));
  R->graphs = (CUgraphExec*)sfc_malloc(R, 2 * nr * sizeof(CUgraphExec));
  R->region_fn = (CUfunction*)sfc_malloc(R, nr * sizeof(CUfunction));
  R->op_fn = (CUfunction*)sfc_malloc(R, (size_t)(P->nops > 0 ? P->nops : 1) * sizeof(CUfunction));
  R->slot_args = (CUdeviceptr*)sfc_malloc(R, (size_t)(P->max_slots > 0 ? P->max_slots : 1) * sizeof(CUdeviceptr));
  R->arena = sfc_alloc(R, P->arena_bytes);
  R->err = sfc_alloc(R, (int64_t)sizeof(sfc_err));
  R->dev = sfc_alloc(R, (int64_t)sizeof(sfc_dev));
  for (int i = 0; i < P->nregions; ++i)
    if (P->regions[i].nscalars > 0) R->scratch[i] = sfc_alloc(R, 8 * (int64_t)P->regions[i].nscalars);
  SFC_CK(cuMemsetD8Async(R->arena, 0, (size_t)P->arena_bytes, R->stream), "cuMemsetD8Async");
  SFC_CK(cuMemsetD8Async(R->err, 0, sizeof(sfc_err), R->stream), "cuMemsetD8Async");
  for (int i = 0; i < P->nbuffers; ++i) {
    const sfc_buffer* b = &P->buffers[i];
    if (b->where == SFC_ARENA) R->ptr[i] = R->arena + (CUdeviceptr)b->offset;
    if (b->where != SFC_CONST && b->where != SFC_INPUT) continue;
    R->ptr[i] = sfc_alloc(R, b->bytes);
    const void* data = b->where == SFC_CONST ? P->consts[i] : inputs[b->index];
    if (b->bytes > 0) SFC_CK(cuMemcpyHtoDAsync(R->ptr[i], data, (size_t)b->bytes, R->stream), "cuMemcpyHtoDAsync");
  }
  sfc_steps(R, P->top0, P->ntop);
  sfc_check_error(R);
  for (int i = 0; i < P->nresults; ++i) {
    const sfc_buffer* b = &P->buffers[P->results[i]];
    if (results[i] && b->bytes > 0)
      SFC_CK(cuMemcpyDtoHAsync(results[i], R->ptr[P->results[i]], (size_t)b->bytes, R->stream), "cuMemcpyDtoHAsync");
  }
  SFC_CK(cuStreamSynchronize(R->stream), "cuStreamSynchronize");
}

static int sfc_report(const sf_aot_options* opt, int code, const char* message) {
  if (opt->error && opt->error_size > 0) snprintf(opt->error, opt->error_size, "%s", message);
  return code;
}

/* `inputs`: per program input, its data (given or the default); `results`: where each goes (NULL: not wanted). */
static int sfc_run(const sfc_program* P, const void* const* inputs, void* const* results, const sf_aot_options* opt) {
  sfc_state* R = (sfc_state*)calloc(1, sizeof(sfc_state));
  if (!R) return sfc_report(opt, SF_AOT_NO_MEMORY, "out of memory");
  R->P = P, R->opt = opt;
  R->chunk_rows = opt->chunk_rows > 0 ? opt->chunk_rows : 256;
  R->event_chunk = opt->event_chunk > 0 ? opt->event_chunk : 4096;
  if (!setjmp(R->fail)) sfc_body(R, inputs, results);
  sfc_cleanup(R);
  int code = R->code == SF_AOT_OK ? SF_AOT_OK : sfc_report(opt, R->code, R->msg);
  free(R);
  return code;
}
