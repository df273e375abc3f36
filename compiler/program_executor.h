// The reference executor of KernelPrograms: plain loops over the program's steps, computing the
// same operations in the same order as the interpreter, so its results are bit-exact with it
// (sums run in the interpreter's order; elementwise math goes through ops/scalar.h). It is the
// check of the lowering and the model a backend's lowering of each step follows.
//
// Inputs, run options, sinks, recording modes and run-time errors behave as the interpreter's
// (backends/interpreter/interpreter.h); sinks are told the scan node ids of the compiled graph.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "backends/interpreter/interpreter.h"
#include "compiler/kernel_program.h"

namespace sf {

// Shared by every backend, so that all bind and refuse alike, with the same messages:
// the data each Input buffer is bound to (indexed by buffer, null for the others): the tensor bound
// by name, else the input's default. An unknown name, a wrong type or a missing input is sf::Error.
std::vector<const void*> bind_inputs(const KernelProgram& p, const std::map<std::string, Tensor>& inputs);
// Sink and events recording need a sink and a top-level scan, and chunk sizes >= 1: checked before
// anything runs, as the interpreter does.
void check_recording(const KernelProgram& p, const RunOptions& options);

std::vector<Tensor> execute(const KernelProgram& p, const std::map<std::string, Tensor>& inputs = {},
                            const RunOptions& options = {});

}  // namespace sf
