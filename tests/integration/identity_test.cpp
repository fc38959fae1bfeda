// Identity, Chat, Cursors and Messaging through the real server: tokens minted
// by the backend, connect-time tokens (?token=) and RPC authentication, two
// identities talking over real WebSockets.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "snorky/services/identity_tokens.hpp"
#include "support/clients.hpp"
#include "support/identities.hpp"
#include "support/probes.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {
const std::string kServices = authServices("max_lifetime = 600") + R"(
[[service]]
name = "chat"
type = "chat"
registry = "frontend"

[[service]]
name = "cursors"
type = "cursors"
registry = "frontend"

[[service]]
name = "messaging"
type = "messaging"
registry = "frontend"
)";

// The secret comes from the environment, as in production.
struct IdentityServer {
    ServerProcess server{basicConfig(true, "", kServices), identityEnv()};

    std::string mint(json::value identity, json::object extra = {}) {
        return mintToken(server.backendPort(), std::move(identity), std::move(extra));
    }
    // A connection authenticated at connect time.
    std::unique_ptr<WsClient> connectAs(json::value identity) {
        return std::make_unique<WsClient>(server.frontendPort(), "/ws?token=" + mint(std::move(identity)));
    }
};

// Sends a call and returns its reply; notifications that arrive before the
// reply are appended to `notes`.
json::value callKeeping(WsClient& c, const std::string& service, const std::string& command, json::object params,
                        std::vector<json::value>& notes) {
    c.call(service, command, std::move(params), 7);
    for (int i = 0; i < 100; ++i) {
        json::value message = c.expectMessage();
        auto type = message.at("type");
        if (type == "response" || type == "error") return message;
        notes.push_back(std::move(message));
    }
    throw std::runtime_error("no reply");
}

std::string upgradeRequest(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}
}  // namespace

TEST(Identity, MintedTokenWorksAtConnectTimeAndOverRpc) {
    IdentityServer s;
    json::value alice = json::parse(R"({"id":42,"name":"Alice"})");
    std::string token = s.mint(alice, {{"lifetime", 60}});

    WsClient atConnect(s.server.frontendPort(), "/ws?token=" + token);
    EXPECT_EQ(atConnect.request("auth", "whoami", {}).at("data"), alice);

    WsClient overRpc(s.server.frontendPort());
    EXPECT_EQ(overRpc.request("auth", "whoami", {}).at("data"), nullptr);
    EXPECT_EQ(overRpc.request("auth", "authenticate", {{"token", token}}).at("data"), alice);
    EXPECT_EQ(overRpc.request("auth", "whoami", {}).at("data"), alice);
    // Another identity on the same connection is refused.
    EXPECT_EQ(overRpc.request("auth", "authenticate", {{"token", s.mint("mallory")}}).at("message"),
              "Already authenticated");

    EXPECT_EQ(backendCall(s.server.backendPort(), "auth_backend", "mintToken", {{"identity", "a"}, {"lifetime", 601}})
                  .at("message"),
              "Invalid lifetime");
    EXPECT_EQ(backendCall(s.server.backendPort(), "auth_backend", "mintToken", {{"identity", nullptr}}).at("message"),
              "Invalid identity");
}

TEST(Identity, ExpiredAndForgedTokensAreRefused) {
    IdentityServer s;
    std::int64_t now = snorky::IdentityTokens::systemClock();
    snorky::IdentityTokens past(kIdentitySecret, [now] { return now - 3600; });
    std::string expired = past.mint("alice", std::chrono::seconds(60));
    snorky::IdentityTokens forger(std::string(40, 'f'));
    std::string forged = forger.mint("alice", std::chrono::seconds(60));

    WsClient client(s.server.frontendPort());
    EXPECT_EQ(client.request("auth", "authenticate", {{"token", expired}}).at("message"), "Token expired");
    EXPECT_EQ(client.request("auth", "authenticate", {{"token", forged}}).at("message"), "Invalid token");
    EXPECT_EQ(client.request("auth", "authenticate", {{"token", "x.y.z"}}).at("message"), "Invalid token");
    EXPECT_EQ(client.request("auth", "whoami", {}).at("data"), nullptr);
    EXPECT_EQ(client.request("chat", "join", {{"channel", "room"}}).at("message"), "Not authenticated");

    // At connect time: the upgrade is refused with 401 and the reason.
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws?token=" + expired), 401);
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws?token=" + forged), 401);
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws?token=garbage"), 401);
    std::string answer = rawExchange(s.server.frontendPort(), upgradeRequest("/ws?token=" + expired));
    EXPECT_NE(answer.find("401"), std::string::npos) << answer;
    EXPECT_NE(answer.find("Token expired"), std::string::npos) << answer;
    answer = rawExchange(s.server.frontendPort(), upgradeRequest("/ws?token=" + forged));
    EXPECT_NE(answer.find("Invalid token"), std::string::npos) << answer;
    // No token at all: an anonymous connection.
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws"), 101);
}

TEST(Identity, TokensNotYetValidOrIssuedInTheFutureAreRefused) {
    IdentityServer s;
    std::int64_t now = snorky::IdentityTokens::systemClock();
    // A token whose nbf is an hour away (signed with the right secret).
    std::string notYet = signClaims(R"({"identity":"alice","exp":)" + std::to_string(now + 7200) + R"(,"nbf":)" +
                                    std::to_string(now + 3600) + "}");
    // A signer whose clock runs an hour ahead: iat in the future.
    snorky::IdentityTokens ahead(kIdentitySecret, [now] { return now + 3600; });
    std::string fromTheFuture = ahead.mint("alice", std::chrono::seconds(60));
    std::string absurd = signClaims(R"({"identity":"alice","exp":1e300})");

    WsClient client(s.server.frontendPort());
    EXPECT_EQ(client.request("auth", "authenticate", {{"token", notYet}}).at("message"), "Token not yet valid");
    EXPECT_EQ(client.request("auth", "authenticate", {{"token", fromTheFuture}}).at("message"), "Invalid token");
    EXPECT_EQ(client.request("auth", "authenticate", {{"token", absurd}}).at("message"), "Invalid token");
    EXPECT_EQ(client.request("auth", "whoami", {}).at("data"), nullptr);

    std::string answer = rawExchange(s.server.frontendPort(), upgradeRequest("/ws?token=" + notYet));
    EXPECT_NE(answer.find("401"), std::string::npos) << answer;
    EXPECT_NE(answer.find("Token not yet valid"), std::string::npos) << answer;
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws?token=" + fromTheFuture), 401);
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws?token=" + absurd), 401);
    // nbf already passed: fine.
    std::string ready = signClaims(R"({"identity":"alice","exp":)" + std::to_string(now + 7200) + R"(,"nbf":)" +
                                   std::to_string(now - 10) + "}");
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws?token=" + ready), 101);
}

TEST(Identity, ATokenBesideAnUnreadableQueryOrASecondTokenIsRefused) {
    IdentityServer s;
    std::string token = s.mint("alice");
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws?token=" + token), 101);
    // Each of these connected anonymously (the token ignored) or picked one token of two.
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws?token=bad&x=%zz"), 401);
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws?token=" + token + "&x=%zz"), 401);
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws?token=" + token + "&token=" + token), 401);
    EXPECT_EQ(upgradeStatus(s.server.frontendPort(), "/ws?token=" + token + "&token=bad"), 401);
}

TEST(Identity, TheServerRefusesToStartWithoutAGoodSecret) {
    std::string config = writeTempFile("snorky.toml", basicConfig(true, "", kServices));
    CommandResult none = runSnorky({"--config", config}, {{"SNORKY_IDENTITY_SECRET", ""}});
    EXPECT_NE(none.exitCode, 0);
    EXPECT_NE(none.output.find("SNORKY_IDENTITY_SECRET"), std::string::npos) << none.output;
    CommandResult shortSecret = runSnorky({"--config", config}, {{"SNORKY_IDENTITY_SECRET", "too-short"}});
    EXPECT_NE(shortSecret.exitCode, 0);
    EXPECT_NE(shortSecret.output.find("at least 32 bytes"), std::string::npos) << shortSecret.output;
}

TEST(Chat, TwoIdentitiesOneWithTwoDevices) {
    IdentityServer s;
    auto laptop = s.connectAs("alice");
    WsClient phone(s.server.frontendPort());  // authenticates over RPC
    ASSERT_EQ(phone.request("auth", "authenticate", {{"token", s.mint("alice")}}).at("data"), "alice");
    auto bob = s.connectAs("bob");

    EXPECT_EQ(laptop->request("chat", "join", {{"channel", "room"}}).at("data"), json::parse(R"({"members":["alice"]})"));
    EXPECT_EQ(bob->request("chat", "join", {{"channel", "room"}}).at("data"),
              json::parse(R"({"members":["alice","bob"]})"));
    json::value joined = laptop->expectMessage();
    EXPECT_EQ(joined.at("type"), "presence");
    EXPECT_EQ(joined.at("from"), "bob");
    EXPECT_EQ(joined.at("status"), "joined");
    // Alice's phone joining changes nothing for the others.
    EXPECT_EQ(phone.request("chat", "join", {{"channel", "room"}}).at("data"),
              json::parse(R"({"members":["alice","bob"]})"));
    EXPECT_TRUE(bob->silentFor(300ms));
    EXPECT_TRUE(laptop->silentFor(50ms));

    // A message reaches all three connections, the sender's own included.
    std::vector<json::value> notes;
    EXPECT_EQ(callKeeping(*bob, "chat", "send", {{"channel", "room"}, {"body", "hi all"}}, notes).at("data"), nullptr);
    if (notes.empty()) notes.push_back(bob->expectMessage());
    for (json::value m : {notes.at(0), laptop->expectMessage(), phone.expectMessage()}) {
        EXPECT_EQ(m.at("type"), "message");
        EXPECT_EQ(m.at("from"), "bob");
        EXPECT_EQ(m.at("body"), "hi all");
        std::string stamp(m.at("timestamp").as_string());
        EXPECT_EQ(stamp.size(), 29u) << stamp;
        EXPECT_EQ(stamp.substr(stamp.size() - 6), "+00:00") << stamp;
    }

    // Reading on the phone tells the laptop, nobody else.
    EXPECT_EQ(phone.request("chat", "read", {{"channel", "room"}}).at("data"), nullptr);
    json::value read = laptop->expectMessage();
    EXPECT_EQ(read.at("type"), "read");
    EXPECT_EQ(read.at("channel"), "room");
    EXPECT_TRUE(bob->silentFor(300ms));

    // Alice leaves on one device, then closes the other: "left" only then.
    laptop->close();
    EXPECT_TRUE(bob->silentFor(300ms));
    phone.close();
    json::value left = bob->expectMessage();
    EXPECT_EQ(left.at("type"), "presence");
    EXPECT_EQ(left.at("from"), "alice");
    EXPECT_EQ(left.at("status"), "left");
}

TEST(Cursors, TwoIdentitiesShareCursors) {
    IdentityServer s;
    auto alice = s.connectAs("alice");
    auto bob = s.connectAs("bob");
    EXPECT_EQ(alice->request("cursors", "join", {{"document", "doc"}}).at("data"), json::parse(R"({"cursors":[]})"));
    EXPECT_EQ(bob->request("cursors", "join", {{"document", "doc"}}).at("data"), json::parse(R"({"cursors":[]})"));

    json::value created = alice->request("cursors", "createCursor",
                                         {{"privateHandle", 1}, {"document", "doc"}, {"position", 10}, {"status", "typing"}});
    ASSERT_TRUE(created.at("data").is_number()) << created;
    json::value handle = created.at("data");
    json::value added = bob->expectMessage();
    EXPECT_EQ(added, json::parse(R"({"type":"cursorAdded","cursor":{"publicHandle":)" + json::serialize(handle) +
                                 R"(,"document":"doc","position":10,"status":"typing","owner":"alice"}})"));
    EXPECT_TRUE(alice->silentFor(200ms));  // the owner is not told about its own cursor

    alice->request("cursors", "updateCursor", {{"privateHandle", 1}, {"newData", {{"position", 11}}}});
    json::value updated = bob->expectMessage();
    EXPECT_EQ(updated.at("type"), "cursorUpdated");
    EXPECT_EQ(updated.at("cursor").at("position"), 11);

    EXPECT_EQ(alice->request("cursors", "createCursor",
                             {{"privateHandle", 1}, {"document", "doc"}, {"position", 0}, {"status", 0}})
                  .at("message"),
              "Reused handle");
    EXPECT_EQ(bob->request("cursors", "removeCursor", {{"privateHandle", 1}}).at("message"), "No such cursor");

    alice->close();  // disconnect removes her cursor
    json::value removed = bob->expectMessage();
    EXPECT_EQ(removed, json::parse(R"({"type":"cursorRemoved","cursor":{"publicHandle":)" + json::serialize(handle) +
                                   R"(,"document":"doc"}})"));

    WsClient anonymous(s.server.frontendPort());
    EXPECT_EQ(anonymous.request("cursors", "join", {{"document", "doc"}}).at("message"), "Not authenticated");
}

TEST(Messaging, DirectMessagesBetweenConnections) {
    IdentityServer s;
    WsClient alice(s.server.frontendPort()), bob(s.server.frontendPort());
    EXPECT_EQ(alice.request("messaging", "registerParticipant", {{"name", "alice"}}).at("data"), nullptr);
    EXPECT_EQ(bob.request("messaging", "registerParticipant", {{"name", "bob"}}).at("data"), nullptr);
    EXPECT_EQ(bob.request("messaging", "registerParticipant", {{"name", "alice"}}).at("message"),
              "Name already registered");
    EXPECT_EQ(alice.request("messaging", "listParticipants", {}).at("data"), json::parse(R"(["alice","bob"])"));
    EXPECT_EQ(alice.request("messaging", "send", {{"sender", "alice"}, {"dest", "bob"}, {"body", "psst"}}).at("data"),
              nullptr);
    EXPECT_EQ(bob.expectMessage(), json::parse(R"({"type":"message","sender":"alice","dest":"bob","body":"psst"})"));
    bob.close();
    // The name is freed once the server has seen the disconnect.
    json::value reply;
    EXPECT_TRUE(waitUntil([&] {
        reply = alice.request("messaging", "send", {{"sender", "alice"}, {"dest", "bob"}, {"body", 1}});
        return reply.at("type") == "error";
    }, 5000ms, 20ms));
    EXPECT_EQ(reply.at("message"), "Unknown destination");
}
