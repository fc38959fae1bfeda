// Boost.URL's implementation, compiled with the fuzzing flags (see CMakeLists.txt).
#include <boost/url/src.hpp>
