// A deliberately faulty program, built only in sanitizer builds: the tests
// run it to prove that a sanitizer report in a child's output fails the test
// (tests/integration/sanitizer_reports_test.cpp). Never part of the product.
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {
volatile int sink;
int shared;  // written by two threads without a lock

__attribute__((noinline)) void useAfterFree() {
    int* p = new int[4];
    delete[] p;
    sink = p[1];
}

__attribute__((noinline)) void floatCastOverflow(double value) { sink = static_cast<int>(value); }

char* volatile holder;

__attribute__((noinline)) void leak() {
    holder = new char[64];
    std::strcpy(holder, "never freed");
    holder = nullptr;  // the last pointer to it is gone: LeakSanitizer reports it at exit
}

void race() {
    std::thread other([] { ++shared; });
    ++shared;
    other.join();
}
}  // namespace

int main(int argc, char** argv) {
    std::string fault = argc > 1 ? argv[1] : "";
    if (fault == "use-after-free") useAfterFree();
    else if (fault == "float-cast-overflow") floatCastOverflow(argc > 2 ? std::stod(argv[2]) : 1e300);
    else if (fault == "leak") leak();
    else if (fault == "race") race();
    else if (fault != "none") {
        std::fprintf(stderr, "usage: canary use-after-free|float-cast-overflow|leak|race|none\n");
        return 2;
    }
    std::printf("canary: %s done\n", fault.c_str());
    return 0;
}
