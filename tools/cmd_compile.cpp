// scanflow compile MODEL|FILE.sfg: runs the compiler pipeline and lowers the result to a
// KernelProgram; optionally dumps every stage and prints statistics.
#include <memory>

#include <fmt/format.h>

#include "compiler/pipeline.h"
#include "compiler/stats.h"
#include "tools/cli.h"

namespace sf::cli {

namespace {

struct CompileArgs {
  TargetOptions target;
  std::string dump_dir, out;
  bool stats = false, fast_math = false, no_singularities = false;
};

void compile(const CompileArgs& a) {
  Target t = load_target(a.target, /*stream=*/true);  // the graph `scanflow run` would run
  CompileOptions options;
  options.fast_math = a.fast_math;
  options.rewrite_singularities = !a.no_singularities;
  CompileResult r = compile_graph(t.graph, options, a.dump_dir);
  if (!a.out.empty()) write_text(a.out, print_program(r.program));
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
  cmd->add_flag("--no-singularities", a->no_singularities,
                "Keep rates like x/(1-exp(-x)) as written (no expm1 rewrite of their 0/0 points)");
  return {cmd, [a] { compile(*a); }};
}

}  // namespace sf::cli
