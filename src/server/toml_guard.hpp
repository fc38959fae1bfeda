#pragma once
// A pass over TOML text before toml++ sees it. Debian 12's toml++ 3.3 asks
// is_non_ascii_horizontal_whitespace() about every character it meets between
// tokens, and that generated function reaches __builtin_unreachable() for most
// code points between U+00A1 and U+FEFE (found by fuzz/targets/config.cpp):
// undefined behaviour on a config file that merely has an "é" in a key.
// TOML 1.0 allows non-ASCII text only inside strings and comments, so this
// refuses it everywhere else, with the line, before the parser runs.
#include <optional>
#include <string>
#include <string_view>

namespace snorky::server {

struct TomlGuardError {
    std::size_t line;     // 1-based
    std::string message;
};

std::optional<TomlGuardError> findUnsafeToml(std::string_view text);

}  // namespace snorky::server
