#pragma once
// UTF-8 validation (RFC 3629, Unicode table 3-7): a pure function, no I/O.
#include <string_view>

namespace snorky {

// True when `text` is well-formed UTF-8: no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated or stray bytes.
// RFC 6455 8.1: a text message that fails this closes the connection (1007).
bool isValidUtf8(std::string_view text);

}  // namespace snorky
