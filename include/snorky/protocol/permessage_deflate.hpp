#pragma once
// permessage-deflate (RFC 7692) for the server side: the negotiation of the
// Sec-WebSocket-Extensions header and the compression of one message, with
// zlib. Pure functions over bytes, no I/O.
//
// Neither side keeps a compression context between messages: the server
// always answers with server_no_context_takeover (so one compressed frame can
// be shared by every subscriber, like the uncompressed one) and with
// client_no_context_takeover (so a connection holds no inflate window while
// idle; one inflater per thread serves every connection).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace snorky::ws {

struct DeflateAgreement {
    bool accepted = false;
    // The Sec-WebSocket-Extensions value to answer with (when accepted).
    std::string response;
    // Largest payload the server may send compressed to this client. A message
    // compressed without context only refers back inside itself, so a payload
    // no longer than the client's server_max_window_bits window can be inflated
    // with that window whatever window it was compressed with; larger ones go
    // uncompressed (RFC 7692 allows any message to go uncompressed).
    std::size_t maxCompressedPayload = 0;
};

// Picks the first acceptable permessage-deflate offer of a Sec-WebSocket-
// Extensions value (several header lines joined with ", "). An offer with an
// unknown, repeated or out-of-range parameter is declined (RFC 7692 7.1);
// other extensions are ignored.
DeflateAgreement negotiateDeflate(std::string_view offers);

// Compresses one message payload with no context (raw deflate, sync flush,
// the trailing 00 00 ff ff removed, RFC 7692 7.2.1) and appends it to `out`.
// False (and `out` unchanged) when compression would not make it smaller.
bool deflateMessage(std::string_view payload, std::string& out);

enum class InflateResult { Ok, TooBig, Invalid };

// Inflates one compressed message (the payloads of its frames concatenated)
// into `out`, growing `out` piecewise: it never holds more than `limit` + 1
// bytes, so a small bomb costs at most `limit` bytes before TooBig.
// Invalid: not a deflate stream, or one that refers to a previous message.
InflateResult inflateMessage(std::string_view compressed, std::size_t limit, std::string& out);

}  // namespace snorky::ws
