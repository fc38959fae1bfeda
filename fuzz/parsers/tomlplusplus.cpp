// toml++'s implementation, compiled with the fuzzing flags (see CMakeLists.txt).
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
