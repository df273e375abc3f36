// O3 for a target machine, with libmvec (glibc's vector math) as the vectoriser's math library:
// the one optimisation pipeline of the JIT and of ahead-of-time objects.
#pragma once

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace sf::cpu {

void optimize_module(llvm::Module& m, llvm::TargetMachine& tm);

}  // namespace sf::cpu
