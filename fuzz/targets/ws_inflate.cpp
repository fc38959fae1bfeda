// permessage-deflate (src/protocol/permessage_deflate.cpp) with arbitrary
// bytes: the inflate path of every compressed client message, under a limit
// taken from the input, and the negotiation of the extension header.
// Checks that inflating never returns more than the limit nor leaves partial
// output on failure, and that what inflates compresses back to the same text.
#include <string>

#include "fuzz_check.hpp"
#include "snorky/protocol/permessage_deflate.hpp"

using namespace snorky;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    // The first two bytes choose max_message_size (1 to 65,536).
    const std::size_t limit = 1 + ((std::size_t{data[0]} << 8) | data[1]);
    std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

    std::string out = "kept";
    auto result = ws::inflateMessage(input, limit, out);
    FUZZ_CHECK(out.compare(0, 4, "kept") == 0);
    if (result == ws::InflateResult::Ok) {
        FUZZ_CHECK(out.size() - 4 <= limit);
        std::string text = out.substr(4), compressed, again;
        if (ws::deflateMessage(text, compressed)) {
            FUZZ_CHECK(compressed.size() < text.size());
            FUZZ_CHECK(ws::inflateMessage(compressed, text.size(), again) == ws::InflateResult::Ok);
            FUZZ_CHECK(again == text);
        }
    } else {
        FUZZ_CHECK(out == "kept");  // nothing of a refused message is left behind
    }

    auto agreement = ws::negotiateDeflate(input);
    if (agreement.accepted) {
        FUZZ_CHECK(agreement.response.rfind("permessage-deflate; server_no_context_takeover; client_no_context_takeover", 0) == 0);
        FUZZ_CHECK(agreement.maxCompressedPayload >= 256);
    }
    return 0;
}
