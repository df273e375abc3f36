// The C interface every ahead-of-time object shares, whatever its target (backends/cpu/aot.h,
// backends/cuda/aot.h): NAME.h with the guarded sf_aot_* types, the inputs/results structs, the
// stream enum and NAME_run; and the info tables the object defines. One generator, so a program
// may include the headers of a CPU and a CUDA object together.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/kernel_program.h"

namespace sf {

// What the header calls things. Empty names fall back to input names, result<i>, stream_y<y>.
struct AotNames {
  std::string label;                        // what was compiled (a model's name or a file), for comments
  std::vector<std::string> results;         // per program result
  std::map<int64_t, std::string> streams;   // per output y of the top-level scan
};

// A streamed (sink or events) output of a top-level scan; the `stream` argument of the callbacks
// is its position in the list (both targets list them by region in pre-order, then by y).
struct AotStreamInfo {
  int region = -1;  // pre-order number of its scan region
  int64_t y = 0;
  int value = -1;   // the per-step value buffer
  bool events = false;
};

// The C names of the entry's fields, resolved once for the header and the object.
struct AotField {
  std::string c_name;
  int buffer = -1;  // the program buffer (inputs, results); for streams the per-step value buffer
  int64_t y = 0;    // streams: the scan output
  bool events = false;
};
struct AotInterface {
  std::string name, label;
  std::vector<AotField> inputs, results, streams;  // streams in callback order
};
// `regions`: how many scan regions the program has (streams of several get a scanR_ prefix).
AotInterface aot_interface(const KernelProgram& p, const std::vector<AotStreamInfo>& streams, size_t regions,
                           const AotNames& names, const std::string& name);

// NAME.h. `about`: the header comment's paragraph on what NAME_run does and how to link.
std::string aot_header(const KernelProgram& p, const AotInterface& ai, const std::string& about);
// The definitions of NAME_input_info, NAME_result_info and NAME_stream_info.
std::string aot_info_tables(const KernelProgram& p, const AotInterface& ai);

// NAME_run's first statements: for each input, `dst(i, buffer) = ` its data (given in `in`, else
// the default NAME_data_<buffer>, else 0), and `return report(opt, SF_AOT_MISSING_INPUT, ...)` when a
// required input is missing. `dst` is printf-like with the input's position and buffer ("buffers[{1}]").
std::string aot_bind_inputs(const KernelProgram& p, const AotInterface& ai, const std::string& dst, const std::string& report);

// C text helpers for the generators.
std::string c_quoted(const std::string& s);  // a C string literal
const char* c_type(DType d);                 // the C element type

}  // namespace sf
