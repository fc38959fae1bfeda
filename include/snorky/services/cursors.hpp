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
// in the document on every node; every cursor is also kept (through
// ClusterPresence) in the shared map "cursors:<service>:doc:<document>"
// (refreshed every cursorTtl / 3), so a
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

#include "snorky/core/broker.hpp"
#include "snorky/core/cluster_state.hpp"
#include "snorky/core/rpc_service.hpp"
#include "snorky/services/cluster_presence.hpp"

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

    json::object stats() const override;

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
    };
    struct ClientState {
        std::vector<std::string> documents;          // canonical document keys
        std::map<std::string, Cursor> cursors;       // canonical private handle -> cursor
        std::vector<std::string> creating;           // private handles whose public handle is being claimed
    };

    // Commands.
    void join(const RequestPtr& req);
    void leave(Request& req);
    void createCursor(const RequestPtr& req);
    void updateCursor(Request& req);
    void removeCursor(Request& req);

    // Every node's cursors are known: the join's answer.
    void onJoinRead(const RequestPtr& req, const std::string& key, const ClusterPresence::Members& others);
    ClientState* state(const ClientPtr& client);
    bool hasJoined(const ClientState* own, const std::string& documentKey) const;
    Cursor& ownCursor(Request& req);  // by privateHandle, or "No such cursor"
    json::value describe(const Cursor& cursor) const;
    // To the document's clients on every node but `except` (the acting connection).
    void tellOthers(const Document& document, const ClientPtr& except, const json::value& message);
    json::value removedMessage(const Document& document, std::uint16_t handle) const;
    void dropCursor(const ClientPtr& client, ClientState& state, std::map<std::string, Cursor>::iterator it);
    // `key` by value: callers pass elements of `state.documents`, which this erases.
    void leaveDocument(const ClientPtr& client, ClientState& state, std::string key);
    std::uint16_t freeHandle(const std::string& documentKey, const Document& document);
    // Draws a public handle and claims it in the cluster (again when taken, up to 8 times).
    void create(const RequestPtr& req, int attempt);
    void onHandleClaimed(const RequestPtr& req, int attempt, std::uint16_t handle, const std::string& documentKey,
                         ClusterState::Result result);
    Cursor& addCursor(const RequestPtr& req, ClientState& own, Document& document, std::uint16_t handle);
    // Into the shared map, with a fresh expiry; `done` runs once it is written.
    void share(const Cursor& cursor, ClusterState::Done done = {});
    void onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) override;
    // Another node's cursor: remembered for joins and for noticing its node's death.
    void track(const std::string& documentKey, const FramePtr& frame);
    // A cursor of another node found gone: told to this node's clients.
    void onGone(const std::string& documentKey, const std::string& handle);
    std::string topicFor(const std::string& documentKey) const { return topicPrefix_ + documentKey; }
    std::string handleKey(const std::string& documentKey, std::uint16_t handle) const;

    Options options_;
    HandleSource handles_;
    std::unordered_map<std::string, Document> documents_;
    std::unordered_map<const Client*, ClientState> clients_;
    std::string topicPrefix_, handlePrefix_;
    // Every cursor in the cluster, "cursors:<service>:doc:<document>": public handle -> cursor.
    ClusterPresence presence_;
};

}  // namespace snorky
