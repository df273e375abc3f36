// The host C compiler, for the small C translation units that ahead-of-time objects carry (the CPU
// entry's glue, the CUDA object's PTX and loader). $CC when set, else `cc`.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sf {

// Runs `$CC ARGS...` (each argument quoted for the shell); throws sf::Error quoting the command and
// the compiler's output when it fails, with `what` saying what was being built.
void run_host_cc(const std::vector<std::string>& args, const std::string& what);

// Writes `bytes` to `path` (the ahead-of-time writers' objects, C files and headers); sf::Error if it cannot.
void write_file(const std::string& path, std::string_view bytes);

// NAME of an ahead-of-time object NAME.o: the file's stem as a C identifier, the prefix of every
// symbol the object defines.
std::string aot_name(const std::string& object_path);

}  // namespace sf
