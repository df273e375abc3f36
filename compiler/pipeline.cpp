#include "compiler/pipeline.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "compiler/classify.h"
#include "compiler/cse.h"
#include "compiler/dce.h"
#include "compiler/fold.h"
#include "compiler/fuse.h"
#include "compiler/licm.h"
#include "compiler/lower.h"
#include "compiler/simplify.h"
#include "compiler/singularities.h"
#include "graph/dot.h"
#include "graph/error.h"
#include "graph/text.h"
#include "graph/verify.h"

namespace sf {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
  if (!f) fail("cannot write {}", p.string());
}

void dump(const std::string& dir, int index, const std::string& name, const Graph& g) {
  if (dir.empty()) return;
  auto base = std::filesystem::path(dir) / fmt::format("{:02}-{}", index, name);
  write_file(base.string() + ".sfg", print_graph(g));
  write_file(base.string() + ".dot", to_dot(g));
}

}  // namespace

std::vector<std::unique_ptr<Pass>> default_passes(const CompileOptions&) {
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(std::make_unique<CsePass>());
  passes.push_back(std::make_unique<SimplifyPass>());
  passes.push_back(std::make_unique<SingularitiesPass>());
  passes.push_back(std::make_unique<FoldPass>());
  passes.push_back(std::make_unique<LicmPass>());
  passes.push_back(std::make_unique<DcePass>());
  passes.push_back(std::make_unique<ClassifyPass>());  // after licm: invariants are outside
  passes.push_back(std::make_unique<FusePass>());
  return passes;
}

CompileResult compile_graph(const Graph& input, const CompileOptions& options, const std::string& dump_dir) {
  auto t0 = std::chrono::steady_clock::now();
  if (!dump_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dump_dir, ec);
    if (ec) fail("cannot create dump directory {}: {}", dump_dir, ec.message());
  }
  CompileResult r;
  r.graph = input;
  verify(r.graph);
  dump(dump_dir, 0, "input", r.graph);
  int index = 1;
  for (auto& pass : default_passes(options)) {
    auto tp = std::chrono::steady_clock::now();
    Graph next = pass->run(r.graph, options);
    try {
      verify(next);
    } catch (const Error& e) {
      internal_error("pass '{}' produced an invalid graph: {}", pass->name(), e.what());
    }
    PassRecord rec{pass->name(), !same_graph(r.graph, next), ms_since(tp)};
    r.graph = std::move(next);
    r.passes.push_back(rec);
    dump(dump_dir, index++, pass->name(), r.graph);
  }
  auto tl = std::chrono::steady_clock::now();
  r.program = lower(r.graph);
  r.lower_ms = ms_since(tl);
  if (!dump_dir.empty())
    write_file(std::filesystem::path(dump_dir) / fmt::format("{:02}-lower.txt", index), print_program(r.program));
  r.compile_ms = ms_since(t0);
  return r;
}

Graph graph_at_stage(const Graph& input, const std::string& stage, const CompileOptions& options) {
  Graph g = input;
  verify(g);
  if (stage == "input") return g;
  std::string names = "input";
  for (auto& pass : default_passes(options)) {
    g = pass->run(g, options);
    verify(g);
    if (stage == pass->name()) return g;
    names += std::string(", ") + pass->name();
  }
  fail("no compiler stage '{}' (the stages: {})", stage, names);
}

}  // namespace sf
