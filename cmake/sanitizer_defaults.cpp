// Runtime defaults of the sanitizer builds (SNORKY_SANITIZE), linked into every
// program of such a build: the server behaves the same whether a test, the
// soak or a person starts it. ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS and
// TSAN_OPTIONS in the environment still override them.
#define SNORKY_SANITIZER_HOOK extern "C" __attribute__((visibility("default"), used, no_sanitize("address", "thread", "undefined")))

// A callback holding a reference to a local of a function that returned is
// found too (stack-use-after-return), not only heap misuse.
SNORKY_SANITIZER_HOOK const char* __asan_default_options() {
    return "detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:detect_leaks=1";
}

SNORKY_SANITIZER_HOOK const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

SNORKY_SANITIZER_HOOK const char* __tsan_default_options() { return "second_deadlock_stack=1"; }
