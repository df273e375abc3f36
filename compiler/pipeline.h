// The compiler pipeline: a flat list of graph -> graph passes (each verified after it runs, each
// optionally dumped as .sfg and .dot), then lowering to a KernelProgram.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "compiler/kernel_program.h"
#include "compiler/pass.h"

namespace sf {

struct PassRecord {
  std::string name;
  bool changed = false;
  double ms = 0;
};

struct CompileResult {
  Graph graph;                     // after the last pass (kernels fused)
  std::vector<PassRecord> passes;  // in order
  KernelProgram program;           // `graph` lowered (compiler/lower.h), memory planned
  double lower_ms = 0;             // lowering and memory plan
  double compile_ms = 0;           // everything
};

// The passes, in order (the pipeline reads as this list).
std::vector<std::unique_ptr<Pass>> default_passes(const CompileOptions& options);

// Runs the passes over `g`, then lowers the result. With a dump directory, writes NN-<pass>.sfg and
// NN-<pass>.dot after every pass (00-input first), and NN-lower.txt (the program's text) last.
// Throws sf::Error if a pass breaks an invariant (naming the pass).
CompileResult compile_graph(const Graph& g, const CompileOptions& options = {}, const std::string& dump_dir = "");

// The graph after the pass named `stage` ("input": before the first). sf::Error naming the stages
// if there is no such pass.
Graph graph_at_stage(const Graph& g, const std::string& stage, const CompileOptions& options = {});

}  // namespace sf
