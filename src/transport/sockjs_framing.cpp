#include "transport/sockjs_framing.hpp"

#include <boost/json/parse.hpp>

#include "snorky/protocol/utf8.hpp"

namespace snorky::sockjs {

namespace json = boost::json;

namespace {
bool validId(std::string_view id) {
    return !id.empty() && id.size() <= kMaxIdLength && id.find('.') == std::string_view::npos;
}

void appendEscape(std::string& out, std::uint32_t unit) {
    static const char* hex = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(unit >> shift) & 0xf];
}

bool escapedByServer(std::uint32_t c) {
    return c < 0x20 || (c >= 0x200c && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
           (c >= 0x2060 && c <= 0x206f) || (c >= 0xfff0 && c <= 0xffff);
}
}  // namespace

Route route(std::string_view path, std::string_view prefix) {
    Route r;
    if (path.substr(0, prefix.size()) != prefix) return r;
    std::string_view rest = path.substr(prefix.size());
    if (rest.empty() || rest == "/") {
        r.kind = Route::Kind::Greeting;
        return r;
    }
    if (rest == "/info") {
        r.kind = Route::Kind::Info;
        return r;
    }
    if (rest == "/websocket") {
        r.kind = Route::Kind::RawWebSocket;
        return r;
    }
    if (rest.front() != '/') return r;
    rest.remove_prefix(1);
    std::string_view parts[3];
    for (int i = 0; i < 3; ++i) {
        std::size_t slash = rest.find('/');
        if (i < 2 && slash == std::string_view::npos) return r;
        if (i == 2 && slash != std::string_view::npos) return r;
        parts[i] = rest.substr(0, slash);
        if (i < 2) rest.remove_prefix(slash + 1);
    }
    if (!validId(parts[0]) || !validId(parts[1]) || parts[2].empty()) return r;
    r.kind = Route::Kind::Session;
    r.session = parts[1];
    r.transport = parts[2];
    return r;
}

void appendQuoted(std::string& out, std::string_view text) {
    out.reserve(out.size() + text.size() + 2);
    out += '"';
    std::size_t i = 0;
    while (i < text.size()) {
        auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x80) {
            if (byte == '"') out += "\\\"";
            else if (byte == '\\') out += "\\\\";
            else if (byte == '\n') out += "\\n";
            else if (byte == '\r') out += "\\r";
            else if (byte == '\t') out += "\\t";
            else if (byte < 0x20 || byte == 0x7f) appendEscape(out, byte);
            else out += static_cast<char>(byte);
            ++i;
            continue;
        }
        // Only the three-byte forms (U+0800-U+FFFF) can be in the escaped set.
        if ((byte & 0xf0) == 0xe0 && i + 2 < text.size()) {
            std::uint32_t c = ((byte & 0x0fu) << 12) | ((static_cast<unsigned char>(text[i + 1]) & 0x3fu) << 6) |
                              (static_cast<unsigned char>(text[i + 2]) & 0x3fu);
            if (escapedByServer(c)) appendEscape(out, c);
            else out.append(text.substr(i, 3));
            i += 3;
            continue;
        }
        out += static_cast<char>(byte);
        ++i;
    }
    out += '"';
}

std::string closeFrame(std::uint16_t code, std::string_view reason) {
    std::string out = "c[" + std::to_string(code) + ",";
    appendQuoted(out, reason);
    out += ']';
    return out;
}

Decode decodeMessages(std::string_view body, bool allowSingle, std::vector<std::string>& out) {
    out.clear();
    if (body.empty()) return Decode::Empty;
    boost::system::error_code ec;
    json::value parsed = json::parse(body, ec);
    if (ec) return Decode::Broken;
    auto take = [&out](const json::value& item) {
        if (!item.is_string()) return false;
        const json::string& s = item.get_string();
        std::string_view text(s.data(), s.size());
        if (!isValidUtf8(text)) return false;
        out.emplace_back(text);
        return true;
    };
    if (parsed.is_array()) {
        for (const json::value& item : parsed.get_array())
            if (!take(item)) {
                out.clear();
                return Decode::Broken;
            }
        return Decode::Ok;
    }
    if (allowSingle && take(parsed)) return Decode::Ok;
    out.clear();
    return Decode::Broken;
}

}  // namespace snorky::sockjs
