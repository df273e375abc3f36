// scanflow compile MODEL|FILE.sfg: runs the compiler pipeline and lowers the result to a
// KernelProgram; optionally dumps every stage and prints statistics.
#include <memory>

#include <fmt/format.h>

#include "backends/cpu/aot.h"
#include "compiler/pipeline.h"
#include "compiler/stats.h"
#include "graph/error.h"
#include "models/model.h"
#include "tools/cli.h"
#ifdef SF_HAVE_CUDA
#include "tools/compile_cuda.h"
#endif

namespace sf::cli {

namespace {

struct CompileArgs {
  TargetOptions target;
  std::string dump_dir, out;
  bool stats = false, fast_math = false, no_singularities = false;
  // --target cpu|cuda: the AOT object and its header; the generated CUDA source.
  std::string target_backend, emit_cuda, header, scan_strategy, cpu;
  bool aot = false;
};

// The header's names for a simulation's results and streamed outputs (a plain graph: none).
cpu::AotNames aot_names(const Target& t) {
  cpu::AotNames names;
  names.label = t.label;
  const Graph& g = t.graph;
  if (!g.attrs.has("sim.result_rows")) return names;
  SimInfo info = SimInfo::load(g);
  names.results.resize(g.results.size());
  names.results.at(static_cast<size_t>(info.result_initial)) = "initial_row";
  names.results.at(static_cast<size_t>(info.result_rows)) = "rows";
  for (const auto& [var, index] : info.final_state) names.results.at(static_cast<size_t>(index)) = "final_" + var;
  names.streams[info.y_rows] = "rows";
  if (info.y_spikes >= 0) names.streams[info.y_spikes] = "spikes";
  return names;
}

// --aot (cpu, the default target) and the CUDA target's outputs; -o names the object with --aot.
void compile_target(const CompileArgs& a, const Target& t, const KernelProgram& p) {
  std::string target = a.target_backend.empty() && a.aot ? "cpu" : a.target_backend;
  if (target.empty() || target == "cpu") {
    if (!a.emit_cuda.empty()) fail("--emit-cuda needs --target cuda");
    if (!a.cpu.empty() && !a.aot) fail("--cpu needs --aot");
    if (a.aot) cpu::write_aot(p, aot_names(t), cpu::AotOptions{a.out, a.header, a.cpu});
    return;
  }
  if (target != "cuda") fail("unknown --target '{}' (cpu, cuda)", target);
  if (!a.cpu.empty()) fail("--cpu is for --target cpu");
#ifdef SF_HAVE_CUDA
  CudaCompileOptions o;
  o.emit_cuda = a.emit_cuda, o.aot = a.aot, o.object = a.aot ? a.out : "", o.header = a.header;
  o.strategy = a.scan_strategy;
  o.names = aot_names(t);
  compile_cuda_target(p, o);
#else
  (void)p;
  fail("--target cuda: this build has no CUDA backend (the CUDA toolkit was not found at configure time)");
#endif
}

void compile(const CompileArgs& a) {
  Target t = load_target(a.target, /*stream=*/true);  // the graph `scanflow run` would run
  CompileOptions options;
  options.fast_math = a.fast_math;
  options.rewrite_singularities = !a.no_singularities;
  CompileResult r = compile_graph(t.graph, options, a.dump_dir);
  compile_target(a, t, r.program);
  if (!a.out.empty() && !a.aot) write_text(a.out, print_program(r.program));
  ProgramStats ps = program_stats(r.program);
  if (!a.stats) {
    if (a.out != "-")
      fmt::print("{}: {} passes, {} kernels ({} per step), peak {} bytes, compiled in {:.1f} ms\n", t.label,
                 r.passes.size(), ps.kernels, ps.kernels_per_step, r.program.plan.peak_bytes, r.compile_ms);
    return;
  }
  // `key: value` lines (kernels and kernels_per_step count the fused graph's kernel nodes; the
  // program_ lines count what the lowered program launches).
  std::string s = fmt::format("compile_ms: {:.3f}\npasses: {}\n", r.compile_ms, r.passes.size());
  for (const PassRecord& p : r.passes)
    s += fmt::format("  {}: {} {:.3f} ms\n", p.name, p.changed ? "changed" : "unchanged", p.ms);
  s += fmt::format("lower_ms: {:.3f}\n", r.lower_ms);
  s += format_fusion_stats(fusion_stats(r.graph));
  s += fmt::format("program_kernels: {}\nprogram_kernels_per_step: {}\nlibrary_calls: {}\npeak_bytes: {}\n", ps.kernels,
                   ps.kernels_per_step, ps.library_calls, r.program.plan.peak_bytes);
  // With -o - the program text went to stdout: the statistics go to stderr.
  fmt::print(a.out == "-" ? stderr : stdout, "{}", s);
}

}  // namespace

Command add_compile_command(CLI::App& app) {
  auto a = std::make_shared<CompileArgs>();
  CLI::App* cmd = app.add_subcommand("compile", "Compile a model or a graph file to a kernel program");
  add_target_options(*cmd, a->target);
  cmd->add_option("--dump-dir", a->dump_dir,
                  "Write the graph after every pass (NN-pass.sfg, NN-pass.dot) and the program (NN-lower.txt) here")
      ->type_name("DIR");
  cmd->add_option("-o,--output", a->out, "Write the kernel program's text here (- for stdout)")->type_name("FILE");
  cmd->add_flag("--stats", a->stats, "Print compile time, per-pass changes and times, kernel counts and peak memory");
  cmd->add_flag("--fast-math", a->fast_math, "Allow value-changing algebraic rewrites");
  cmd->add_option("--target", a->target_backend, "The backend --aot and --emit-cuda are for (default cpu)")
      ->type_name("cpu|cuda");
  cmd->add_option("--emit-cuda", a->emit_cuda, "--target cuda: write the generated CUDA C++ source here")
      ->type_name("FILE.cu");
  cmd->add_flag("--aot", a->aot,
                "Write an object (-o NAME.o) and a C header (--header): for the cpu target the whole program "
                "behind `int NAME_run(...)` (--target cuda: the PTX, the host schedule and a runtime that loads the "
                "driver at run time; link with -ldl)");
  cmd->add_option("--cpu", a->cpu, "--aot for the cpu target: the CPU to generate code for (default: this machine's)")
      ->type_name("NAME");
  cmd->add_option("--header", a->header, "--aot: the C header to write (default NAME.h beside the object)")
      ->type_name("NAME.h");
  cmd->add_option("--scan-strategy", a->scan_strategy,
                  "--target cuda: elementwise, persistent, graph or launch (default: chosen per scan)");
  cmd->add_flag("--no-singularities", a->no_singularities,
                "Keep rates like x/(1-exp(-x)) as written (no expm1 rewrite of their 0/0 points)");
  return {cmd, [a] { compile(*a); }};
}

}  // namespace sf::cli
