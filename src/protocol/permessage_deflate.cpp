#include "snorky/protocol/permessage_deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <vector>

namespace snorky::ws {

namespace {

constexpr std::string_view kExtension = "permessage-deflate";
constexpr int kWindowBits = 15;  // the largest window: messages are compressed once and shared
constexpr unsigned char kTail[4] = {0x00, 0x00, 0xff, 0xff};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// Splits on `separator` outside double quotes.
std::vector<std::string_view> split(std::string_view s, char separator) {
    std::vector<std::string_view> parts;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"') quoted = !quoted;
        else if (s[i] == separator && !quoted) {
            parts.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    parts.push_back(s.substr(start));
    return parts;
}

// A window size: 8..15 written without leading zeros, optionally quoted (RFC 7692 7.1.2).
std::optional<int> windowBits(std::string_view value) {
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (value.empty() || value.size() > 2 || value[0] == '0') return std::nullopt;
    int bits = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        bits = bits * 10 + (c - '0');
    }
    if (bits < 8 || bits > 15) return std::nullopt;
    return bits;
}

// One offer's parameters; nullopt when it cannot be accepted as written.
std::optional<DeflateAgreement> acceptOffer(const std::vector<std::string_view>& params) {
    bool serverNoContext = false, clientNoContext = false, serverBits = false, clientBits = false;
    int serverWindow = kWindowBits;
    for (std::size_t i = 1; i < params.size(); ++i) {
        std::string_view param = trim(params[i]);
        std::size_t eq = param.find('=');
        std::string_view name = trim(param.substr(0, eq));
        std::optional<std::string_view> value;
        if (eq != std::string_view::npos) value = trim(param.substr(eq + 1));
        if (equalsIgnoreCase(name, "server_no_context_takeover") || equalsIgnoreCase(name, "client_no_context_takeover")) {
            bool& seen = name.size() && std::tolower(static_cast<unsigned char>(name[0])) == 's' ? serverNoContext : clientNoContext;
            if (seen || value) return std::nullopt;  // repeated, or given a value
            seen = true;
        } else if (equalsIgnoreCase(name, "server_max_window_bits")) {
            if (serverBits || !value) return std::nullopt;
            auto bits = windowBits(*value);
            if (!bits) return std::nullopt;
            serverBits = true;
            serverWindow = *bits;
        } else if (equalsIgnoreCase(name, "client_max_window_bits")) {
            // We inflate with the largest window, so any client window will do: no answer needed.
            if (clientBits || (value && !windowBits(*value))) return std::nullopt;
            clientBits = true;
        } else {
            return std::nullopt;  // unknown parameter (or an empty one): decline this offer
        }
    }
    DeflateAgreement agreement;
    agreement.accepted = true;
    agreement.response = std::string(kExtension) + "; server_no_context_takeover; client_no_context_takeover";
    if (serverBits) agreement.response += "; server_max_window_bits=" + std::to_string(serverWindow);
    agreement.maxCompressedPayload = serverBits ? (std::size_t{1} << serverWindow) : SIZE_MAX;
    return agreement;
}

// zlib streams reused for every message of the thread: no context is carried
// between messages (deflateReset/inflateReset), only the allocations are.
struct Deflater {
    z_stream stream{};
    bool ready = false;
    Deflater() {
        ready = deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -kWindowBits, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    }
    ~Deflater() {
        if (ready) deflateEnd(&stream);
    }
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;
};

struct Inflater {
    z_stream stream{};
    bool ready = false;
    Inflater() { ready = inflateInit2(&stream, -kWindowBits) == Z_OK; }
    ~Inflater() {
        if (ready) inflateEnd(&stream);
    }
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;
};

}  // namespace

DeflateAgreement negotiateDeflate(std::string_view offers) {
    for (std::string_view offer : split(offers, ',')) {
        auto params = split(offer, ';');
        if (!equalsIgnoreCase(trim(params[0]), kExtension)) continue;
        if (auto agreement = acceptOffer(params)) return *agreement;
    }
    return {};
}

bool deflateMessage(std::string_view payload, std::string& out) {
    thread_local Deflater deflater;
    if (!deflater.ready || payload.empty()) return false;
    z_stream& z = deflater.stream;
    const std::size_t start = out.size();
    // Room for the worst case: sync flush adds a few bytes to deflateBound's figure.
    const std::size_t room = deflateBound(&z, static_cast<uLong>(payload.size())) + 16;
    out.resize(start + room);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
    z.avail_in = static_cast<uInt>(payload.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data() + start);
    z.avail_out = static_cast<uInt>(room);
    int rc = deflate(&z, Z_SYNC_FLUSH);
    std::size_t produced = room - z.avail_out;
    bool complete = rc == Z_OK && z.avail_in == 0 && z.avail_out > 0;
    deflateReset(&z);
    // A sync flush ends with an empty stored block, 00 00 ff ff, which the
    // receiver adds back itself.
    if (!complete || produced < 4 || std::memcmp(out.data() + start + produced - 4, kTail, 4) != 0 ||
        produced - 4 >= payload.size()) {
        out.resize(start);
        return false;
    }
    out.resize(start + produced - 4);
    return true;
}

InflateResult inflateMessage(std::string_view compressed, std::size_t limit, std::string& out) {
    thread_local Inflater inflater;
    if (!inflater.ready) return InflateResult::Invalid;
    z_stream& z = inflater.stream;
    constexpr std::size_t kStep = 16 * 1024;
    const std::size_t start = out.size();
    std::size_t produced = 0;
    InflateResult result = InflateResult::Ok;
    // The message, then the 00 00 ff ff its sender removed.
    const std::string_view inputs[2] = {compressed,
                                        std::string_view(reinterpret_cast<const char*>(kTail), sizeof kTail)};
    bool ended = false;
    for (std::string_view input : inputs) {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
        z.avail_in = static_cast<uInt>(input.size());
        bool filled = false;  // the last call filled the output: it may hold more back
        while ((z.avail_in > 0 || filled) && !ended) {
            if (out.size() == start + produced) {
                // Grow by a step, never past limit + 1: one byte over is enough to know.
                std::size_t grow = std::min(kStep, limit + 1 - produced);
                if (grow == 0) {
                    result = InflateResult::TooBig;
                    break;
                }
                out.resize(out.size() + grow);
            }
            std::size_t room = out.size() - start - produced;
            z.next_out = reinterpret_cast<Bytef*>(out.data() + start + produced);
            z.avail_out = static_cast<uInt>(room);
            int rc = inflate(&z, Z_SYNC_FLUSH);
            produced += room - z.avail_out;
            filled = z.avail_out == 0;
            if (rc == Z_STREAM_END) {
                ended = true;  // a final block: only the tail we added may follow
                if (input.data() == compressed.data() && z.avail_in > 0) result = InflateResult::Invalid;
            } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && z.avail_out > 0)) {
                result = InflateResult::Invalid;  // corrupt, or a distance into a previous message
            }
            if (result != InflateResult::Ok) break;
            if (produced > limit) {
                result = InflateResult::TooBig;
                break;
            }
        }
        if (result != InflateResult::Ok || ended) break;
    }
    inflateReset(&z);
    if (result != InflateResult::Ok) {
        out.resize(start);
        return result;
    }
    out.resize(start + produced);
    return InflateResult::Ok;
}

}  // namespace snorky::ws
