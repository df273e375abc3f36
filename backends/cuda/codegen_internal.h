// The code generator's state, shared by codegen.cpp (ops, records, persistent kernels) and
// elementwise_kernel.cpp (the elementwise scan kernel). Not part of the backend's interface.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "backends/cuda/codegen.h"

namespace sf::cuda {

// The unsigned word type of an element's width (records move bits, not values).
const char* word_type(DType d);

class Generator {
 public:
  Generator(const KernelProgram& p, const CodegenOptions& o);
  CudaCode run();
  bool writes_slot(const DevOp& op, size_t i) const;

 private:
  const Buffer& buffer(int b) const;
  void walk(const std::vector<Step>& steps, int region);
  void add_region(const ScanRegion& r, int parent);
  int error_site(const std::string& what, int64_t limit, int region);
  int check_id(const Inst& in, int region);
  std::string slot_decl(int b, const std::string& p, size_t i, const std::string& ctx, bool is_const) const;
  std::string op_head(const DevOp& op, const std::string& comment) const;
  std::string kernel_fn(const DevOp& op);
  std::string fold(const Kernel& k, int region);
  std::string copy_fn(const DevOp& op) const;
  std::string matmul_fn(const DevOp& op) const;
  std::string segments_fn(const DevOp& op);
  std::string record_fn(const DevOp& op) const;
  std::string wrapper(const DevOp& op) const;
  std::string persistent_kernel(int region);
  std::string elementwise_kernel(int region);  // elementwise_kernel.cpp

  const KernelProgram& p_;
  CodegenOptions opt_;
  CudaCode code_;
  std::vector<int> row_depth_;  // per Row buffer: the nesting depth of its scan
  std::map<const Inst*, int> check_ids_;
  bool in_prologue_ = false;
};

}  // namespace sf::cuda
