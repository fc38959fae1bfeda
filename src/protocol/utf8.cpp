#include "snorky/protocol/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace snorky {

bool isValidUtf8(std::string_view text) {
    auto p = reinterpret_cast<const unsigned char*>(text.data());
    const auto end = p + text.size();
    while (p < end) {
        // Eight ASCII bytes at a time: most messages are mostly ASCII JSON.
        if (end - p >= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, 8);
            if (!(word & 0x8080808080808080ULL)) {
                p += 8;
                continue;
            }
        }
        const unsigned char lead = *p;
        if (lead < 0x80) {
            ++p;
            continue;
        }
        // How many continuation bytes follow, and the range the first one must
        // fall in: that range is what excludes overlongs, surrogates and > U+10FFFF.
        std::ptrdiff_t more;
        unsigned char low = 0x80, high = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) more = 1;
        else if (lead == 0xE0) more = 2, low = 0xA0;                   // no overlong 3-byte forms
        else if (lead == 0xED) more = 2, high = 0x9F;                  // no surrogates
        else if (lead >= 0xE1 && lead <= 0xEF) more = 2;
        else if (lead == 0xF0) more = 3, low = 0x90;                   // no overlong 4-byte forms
        else if (lead >= 0xF1 && lead <= 0xF3) more = 3;
        else if (lead == 0xF4) more = 3, high = 0x8F;                  // nothing above U+10FFFF
        else return false;                                             // 0x80..0xC1, 0xF5..0xFF
        if (end - p <= more) return false;                             // truncated
        if (p[1] < low || p[1] > high) return false;
        for (std::ptrdiff_t i = 2; i <= more; ++i)
            if ((p[i] & 0xC0) != 0x80) return false;
        p += more + 1;
    }
    return true;
}

}  // namespace snorky
