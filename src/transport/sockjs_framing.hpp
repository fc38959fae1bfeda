#pragma once
// The SockJS 0.3 wire format, pure functions (no I/O): request paths under
// the listener's prefix, the JSON quoting of outbound messages (with the
// characters JavaScript cannot carry raw escaped), inbound message arrays
// and close frames. Unit-tested and called by the SockJS listener.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace snorky::sockjs {

// Longest server or session id segment accepted (longer: 404).
inline constexpr std::size_t kMaxIdLength = 128;

struct Route {
    enum class Kind { NotFound, Greeting, Info, RawWebSocket, Session };
    Kind kind = Kind::NotFound;
    std::string_view session;    // Session: the session id (the server id is ignored)
    std::string_view transport;  // Session: "xhr", "xhr_send", "xhr_streaming", "eventsource", "websocket", ...
};

// `path`: the request path without its query; `prefix`: the listener's
// ("/sockjs"). Anything not under the prefix, a server or session id that is
// empty, holds a '.' or is too long, or a path of another shape is NotFound.
Route route(std::string_view path, std::string_view prefix);

// Appends `text` (UTF-8) as a JSON string literal: quotes, backslashes and
// control characters escaped as JSON requires, plus U+200C-U+200F,
// U+2028-U+202F, U+2060-U+206F and U+FFF0-U+FFFF as \uXXXX (the protocol's
// "escapable by server" set: characters browsers mangle or drop).
void appendQuoted(std::string& out, std::string_view text);

// "c[code,\"reason\"]" (no newline).
std::string closeFrame(std::uint16_t code, std::string_view reason);

enum class Decode { Ok, Empty, Broken };
// An inbound SockJS payload: a JSON array of strings ("[]" is Ok with no
// message), or, when `allowSingle` (the websocket transport), one JSON
// string. Empty input is Empty; anything else, or a string that is not valid
// UTF-8 once unescaped (a lone surrogate), is Broken and yields nothing.
Decode decodeMessages(std::string_view body, bool allowSingle, std::vector<std::string>& out);

}  // namespace snorky::sockjs
