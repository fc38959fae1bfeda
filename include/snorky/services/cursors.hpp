#pragma once
// Cursors (protocol.md section 6): shared cursors in documents. A client with
// an identity joins a document, then creates cursors under private handles of
// its choosing; the others see each cursor under a public handle (a random
// 16-bit integer unique within the document) with its owner's identity.
// Every change is told to the *other* clients in the document; leaving or
// disconnecting removes the client's cursors there (cursorRemoved).
//
// Every command needs an identity ("Not authenticated").
//
// Across nodes (docs/scale-out.md): notifications go through the Broker (a
// topic per document, one shared frame per change, the acting connection
// excluded); a public handle is claimed in the cluster state so it is unique
// in the document on every node; every cursor is also kept in the shared map
// "cursors:<service>:doc:<document>" (refreshed every cursorTtl / 3), so a
// join lists the cursors of every node, and each node tells its own clients
// "cursorRemoved" for the cursors of a node that died without a goodbye.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "snorky/broker.hpp"
#include "snorky/rpc_service.hpp"
#include "snorky/timers.hpp"

namespace snorky {

class CursorsService : public RpcService, private BrokerListener {
public:
    struct Options {
        std::size_t maxCursorsPerClient = 16;     // over all documents of one connection
        std::size_t maxDocumentsPerClient = 100;  // documents one connection may join
        std::size_t maxCursorBytes = 4096;        // serialized position + status of one cursor
        // How long a node's cursors outlive it (kill -9); refreshed every cursorTtl / 3.
        std::chrono::milliseconds cursorTtl{30000};
    };
    // Source of public handles; injectable so tests can force collisions.
    using HandleSource = std::function<std::uint16_t()>;

    CursorsService(std::string name, Options options, HandleSource handles = {});
    explicit CursorsService(std::string name) : CursorsService(std::move(name), Options{}) {}
    ~CursorsService() override;

    std::size_t documentCount() const { return documents_.size(); }
    std::size_t cursorCount(const json::value& document) const;

protected:
    void onAttach() override;
    void onDisconnect(const ClientPtr& client) override;

private:
    struct Cursor {
        std::uint16_t publicHandle = 0;
        std::string documentKey;
        json::value position;
        json::value status;
        json::value owner;  // the identity at creation
    };
    struct Document {
        json::value value;                               // the document as clients named it
        std::vector<ClientPtr> clients;                  // joined connections
        std::map<std::uint16_t, const Cursor*> cursors;  // public handle -> cursor (owned by a ClientState)
        std::map<std::uint16_t, json::value> remote;     // other nodes' cursors, as described
    };
    struct ClientState {
        std::vector<std::string> documents;          // canonical document keys
        std::map<std::string, Cursor> cursors;       // canonical private handle -> cursor
        std::vector<std::string> creating;           // private handles whose public handle is being claimed
    };

    const ClientPtr& authenticated(Request& req) const;
    ClientState* state(const ClientPtr& client);
    Cursor& ownCursor(Request& req);  // by privateHandle, or "No such cursor"
    json::value describe(const Cursor& cursor) const;
    void tellOthers(const Document& document, const ClientPtr& except, const json::value& message);
    void removeCursor(const ClientPtr& client, ClientState& state, std::map<std::string, Cursor>::iterator it);
    // `key` by value: callers pass elements of `state.documents`, which this erases.
    void leaveDocument(const ClientPtr& client, ClientState& state, std::string key);
    std::uint16_t freeHandle(const Document& document);
    void create(const RequestPtr& req, int attempt);
    // Into the shared map, with a fresh expiry; `done` runs once it is written.
    void share(const Cursor& cursor, Broker::Done done = {});
    void onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) override;
    void heartbeat();
    std::int64_t epochMillis();  // the node's calendar time, in ms since 1970
    std::string topicFor(const std::string& documentKey) const { return topicPrefix_ + documentKey; }
    std::string stateKey(const std::string& documentKey) const { return statePrefix_ + documentKey; }
    std::string handleKey(const std::string& documentKey, std::uint16_t handle) const;
    // Other nodes' live cursors from the shared map's fields.
    std::map<std::uint16_t, json::value> remoteCursors(const std::map<std::string, std::string>& fields);

    Options options_;
    HandleSource handles_;
    std::unordered_map<std::string, Document> documents_;
    std::unordered_map<const Client*, ClientState> clients_;
    std::string topicPrefix_, statePrefix_, handlePrefix_;
    Timers::Handle heartbeatTimer_ = 0;
    ReconnectGrace grace_;  // no removal concluded until every node set its cursors again
};

}  // namespace snorky
