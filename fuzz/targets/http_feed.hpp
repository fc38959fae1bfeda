#pragma once
// Feeds bytes to a Beast parser as one read would, and says how it ended.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>

namespace snorky::fuzz {

enum class Feed { Done, NeedMore, Error };

// Puts data[pos, size) into the parser until it has what `header` asks for
// (the header only, or the whole message); advances pos past what it used.
template <class Parser>
Feed feed(Parser& parser, const std::uint8_t* data, std::size_t size, std::size_t& pos, bool header,
          boost::beast::error_code& ec) {
    while (!(header ? parser.is_header_done() : parser.is_done())) {
        std::size_t used = parser.put(boost::asio::buffer(data + pos, size - pos), ec);
        pos += used;
        if (ec == boost::beast::http::error::need_more) {
            ec = {};
            if (pos == size || used == 0) return Feed::NeedMore;
            continue;
        }
        if (ec) return Feed::Error;
        if (pos == size && !(header ? parser.is_header_done() : parser.is_done())) {
            // End of the input: for a body read until EOF, the end is the end.
            parser.put_eof(ec);
            return ec ? Feed::NeedMore : Feed::Done;
        }
    }
    return Feed::Done;
}

}  // namespace snorky::fuzz
