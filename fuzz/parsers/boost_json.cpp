// Boost.JSON's implementation, compiled with the fuzzing flags (see CMakeLists.txt).
#include <boost/json/src.hpp>
