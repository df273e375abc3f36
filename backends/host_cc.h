// The host C compiler, for the small C translation units that ahead-of-time objects carry (the CPU
// entry's glue, the CUDA object's PTX and loader). $CC when set, else `cc`.
#pragma once
#include <string>
#include <vector>

namespace sf {

// Runs `$CC ARGS...` (each argument quoted for the shell); throws sf::Error quoting the command and
// the compiler's output when it fails, with `what` saying what was being built.
void run_host_cc(const std::vector<std::string>& args, const std::string& what);

// NAME of an ahead-of-time object NAME.o: the file's stem as a C identifier, the prefix of every
// symbol the object defines.
std::string aot_name(const std::string& object_path);

}  // namespace sf
