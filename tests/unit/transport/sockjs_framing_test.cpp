// The SockJS wire format: routes, quoting with the protocol's escapes,
// inbound message arrays and close frames.
#include "transport/sockjs_framing.hpp"

#include <gtest/gtest.h>

using namespace snorky::sockjs;

namespace {
std::string quote(std::string_view text) {
    std::string out;
    appendQuoted(out, text);
    return out;
}
}  // namespace

TEST(SockJsFraming, RoutesUnderThePrefix) {
    EXPECT_EQ(route("/sockjs", "/sockjs").kind, Route::Kind::Greeting);
    EXPECT_EQ(route("/sockjs/", "/sockjs").kind, Route::Kind::Greeting);
    EXPECT_EQ(route("/sockjs/info", "/sockjs").kind, Route::Kind::Info);
    EXPECT_EQ(route("/sockjs/websocket", "/sockjs").kind, Route::Kind::RawWebSocket);
    auto session = route("/sockjs/000/abc-1_2%20/xhr_send", "/sockjs");
    ASSERT_EQ(session.kind, Route::Kind::Session);
    EXPECT_EQ(session.session, "abc-1_2%20");
    EXPECT_EQ(session.transport, "xhr_send");
}

TEST(SockJsFraming, RefusesMalformedSessionPaths) {
    for (const char* path : {"/other/info", "/sockjsx/info", "/sockjs//a/xhr", "/sockjs/a//xhr", "/sockjs/a./b/xhr",
                             "/sockjs/a/b./xhr", "/sockjs/./././xhr", "/sockjs/a/b/", "/sockjs/a/b/c/d", "/sockjs/a/xhr",
                             "/sockjs/info/x"})
        EXPECT_EQ(route(path, "/sockjs").kind, Route::Kind::NotFound) << path;
    std::string longId(kMaxIdLength + 1, 'x');
    EXPECT_EQ(route("/sockjs/a/" + longId + "/xhr", "/sockjs").kind, Route::Kind::NotFound);
    EXPECT_EQ(route("/sockjs/a/" + longId.substr(1) + "/xhr", "/sockjs").kind, Route::Kind::Session);
}

TEST(SockJsFraming, QuotesAndEscapesWhatJavaScriptCannotCarryRaw) {
    EXPECT_EQ(quote(R"({"a":"b\"c"})"), R"("{\"a\":\"b\\\"c\"}")");
    EXPECT_EQ(quote(std::string("\x00\x1f\n\r\t\x7f", 6)), R"("\u0000\u001f\n\r\t\u007f")");
    // U+200C..U+200F, U+2028..U+202F, U+2060..U+206F, U+FFF0..U+FFFF escaped.
    EXPECT_EQ(quote("\xe2\x80\x8c\xe2\x80\x8f\xe2\x80\xa8\xe2\x80\xaf\xe2\x81\xa0\xe2\x81\xaf\xef\xbf\xb0\xef\xbf\xbf"),
              R"("\u200c\u200f\u2028\u202f\u2060\u206f\ufff0\uffff")");
    // Their neighbours, other BMP and astral characters stay raw.
    EXPECT_EQ(quote("\xe2\x80\x8b\xe2\x80\xb0\xe2\x81\xb0\xef\xbf\xaf\xc3\xa9\xf0\x9f\x98\x80"),
              "\"\xe2\x80\x8b\xe2\x80\xb0\xe2\x81\xb0\xef\xbf\xaf\xc3\xa9\xf0\x9f\x98\x80\"");
}

TEST(SockJsFraming, CloseFrame) {
    EXPECT_EQ(closeFrame(3000, "Go away!"), R"(c[3000,"Go away!"])");
    EXPECT_EQ(closeFrame(2010, "Another connection still open"), R"(c[2010,"Another connection still open"])");
}

TEST(SockJsFraming, DecodesMessageArrays) {
    std::vector<std::string> out;
    EXPECT_EQ(decodeMessages(R"(["a","b\u0000"])", false, out), Decode::Ok);
    EXPECT_EQ(out, (std::vector<std::string>{"a", std::string("b\0", 2)}));
    EXPECT_EQ(decodeMessages("[]", false, out), Decode::Ok);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(decodeMessages("", false, out), Decode::Empty);
    EXPECT_EQ(decodeMessages(R"("single")", true, out), Decode::Ok);
    EXPECT_EQ(out, (std::vector<std::string>{"single"}));
    for (const char* broken : {R"(["a)", R"("single")", "[1]", R"(["a",2])", "{}", "null", R"(["\ud800"])"}) {
        EXPECT_EQ(decodeMessages(broken, false, out), Decode::Broken) << broken;
        EXPECT_TRUE(out.empty());
    }
}
