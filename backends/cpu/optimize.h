// O3 for a target machine, with libmvec (glibc's vector math) as the vectoriser's math library, then
// the definitions of our own inline exp (inline_exp.h): the one optimisation pipeline of the JIT and
// of ahead-of-time objects.
#pragma once

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace sf::cpu {

void optimize_module(llvm::Module& m, llvm::TargetMachine& tm);

// What optimize_module does across function boundaries and cannot do once the module is cut into
// parts that are optimised on their own (backends/cpu/parts.h): constants that every call passes
// become constants in the callee (a kernel run on one thread gets its element count as a constant
// trip count), and arguments no callee uses are removed. Run on the whole module, before the cut.
void propagate_across_calls(llvm::Module& m, llvm::TargetMachine& tm);

}  // namespace sf::cpu
