/* A program that runs any ahead-of-time object and writes what it did, for tests/aot_test.cpp.
 * Built with -DPREFIX=NAME -include NAME.h. Usage: driver DIR THREADS CHUNK_ROWS EVENT_CHUNK
 * Reads DIR/in<i>.bin for the inputs it finds (others take their defaults); writes DIR/code.txt
 * (the result code, then the message), DIR/r<i>.bin (results), DIR/log.txt (one line per callback)
 * and DIR/s<stream>.bin (the streamed rows, appended). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define SYM(x) CAT(PREFIX, x)

static const char* dir;
static FILE* log_file;

static FILE* open_in(const char* name, const char* mode) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return fopen(path, mode);
}

static long long dtype_size(const char* d) { return d[1] == '6' ? 8 : d[1] == '3' ? 4 : 1; } /* f64 i64 / f32 i32 / b8 */

static long long bytes_of(const sf_aot_tensor* t) {
  long long n = dtype_size(t->dtype);
  for (int i = 0; i < t->rank; ++i) n *= t->shape[i];
  return n;
}

static int on_rows(void* ctx, int32_t s, const void* data, int64_t nrows, int64_t first_row) {
  (void)ctx;
  const sf_aot_stream* info = &SYM(_stream_info)[s];
  long long row = dtype_size(info->dtype);
  for (int i = 0; i < info->rank; ++i) row *= info->shape[i];
  fprintf(log_file, "rows %lld %lld %lld\n", (long long)info->y, (long long)first_row, (long long)nrows);
  char name[64];
  snprintf(name, sizeof name, "s%d.bin", s);
  FILE* f = open_in(name, "ab");
  fwrite(data, 1, (size_t)(row * nrows), f);
  fclose(f);
  return 0;
}

static int on_events(void* ctx, int32_t s, const int64_t* pairs, int64_t n) {
  (void)ctx;
  fprintf(log_file, "events %lld", (long long)SYM(_stream_info)[s].y);
  for (int64_t i = 0; i < n; ++i) fprintf(log_file, " %lld:%lld", (long long)pairs[2 * i], (long long)pairs[2 * i + 1]);
  fprintf(log_file, "\n");
  return 0;
}

static int on_progress(void* ctx, int32_t scan, int64_t step, int64_t length) {
  (void)ctx, (void)scan;
  fprintf(log_file, "progress %lld/%lld\n", (long long)step, (long long)length);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 5) return 64;
  dir = argv[1];
  SYM(_inputs) in;
  SYM(_results) out;
  memset(&in, 0, sizeof in);
  memset(&out, 0, sizeof out);
  const void** inputs = (const void**)&in; /* both structs are arrays of pointers, in info order */
  void** results = (void**)&out;
  for (int i = 0; i < SYM(_INPUTS); ++i) {
    char name[64];
    snprintf(name, sizeof name, "in%d.bin", i);
    FILE* f = open_in(name, "rb");
    if (!f) continue;
    long long n = bytes_of(&SYM(_input_info)[i]);
    void* p = malloc((size_t)n + 1);
    if (fread(p, 1, (size_t)n, f) != (size_t)n) return 65;
    fclose(f);
    inputs[i] = p;
  }
  for (int i = 0; i < SYM(_RESULTS); ++i) results[i] = calloc(1, (size_t)bytes_of(&SYM(_result_info)[i]) + 1);

  char error[4096] = "";
  sf_aot_options opt;
  memset(&opt, 0, sizeof opt);
  opt.threads = atoi(argv[2]);
  opt.chunk_rows = atoll(argv[3]);
  opt.event_chunk = atoll(argv[4]);
  opt.rows = on_rows;
  opt.events = on_events;
  opt.progress = on_progress;
  opt.error = error;
  opt.error_size = sizeof error;
  log_file = open_in("log.txt", "w");
  int code = SYM(_run)(&in, &out, &opt);
  fclose(log_file);

  FILE* f = open_in("code.txt", "w");
  fprintf(f, "%d\n%s", code, error);
  fclose(f);
  for (int i = 0; i < SYM(_RESULTS); ++i) {
    char name[64];
    snprintf(name, sizeof name, "r%d.bin", i);
    f = open_in(name, "wb");
    fwrite(results[i], 1, (size_t)bytes_of(&SYM(_result_info)[i]), f);
    fclose(f);
    free(results[i]);
  }
  for (int i = 0; i < SYM(_INPUTS); ++i) free((void*)inputs[i]);
  return 0;
}
