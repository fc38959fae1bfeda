#pragma once
// Cursors (protocol.md section 6): shared cursors in documents. A client with
// an identity joins a document, then creates cursors under private handles of
// its choosing; the others see each cursor under a public handle (a random
// 16-bit integer unique within the document) with its owner's identity.
// Every change is told to the *other* clients in the document; leaving or
// disconnecting removes the client's cursors there (cursorRemoved).
//
// Every command needs an identity ("Not authenticated"). Cursor state and
// public-handle uniqueness are node-local, so notifications go straight to the
// document's local clients (one shared frame per change) rather than through
// the Broker: carrying them across nodes needs shared document state first.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "snorky/rpc_service.hpp"

namespace snorky {

class CursorsService : public RpcService {
public:
    struct Options {
        std::size_t maxCursorsPerClient = 16;     // over all documents of one connection
        std::size_t maxDocumentsPerClient = 100;  // documents one connection may join
        std::size_t maxCursorBytes = 4096;        // serialized position + status of one cursor
    };
    // Source of public handles; injectable so tests can force collisions.
    using HandleSource = std::function<std::uint16_t()>;

    CursorsService(std::string name, Options options, HandleSource handles = {});
    explicit CursorsService(std::string name) : CursorsService(std::move(name), Options{}) {}

    std::size_t documentCount() const { return documents_.size(); }
    std::size_t cursorCount(const json::value& document) const;

protected:
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
    };
    struct ClientState {
        std::vector<std::string> documents;          // canonical document keys
        std::map<std::string, Cursor> cursors;       // canonical private handle -> cursor
    };

    const ClientPtr& authenticated(Request& req) const;
    ClientState* state(const ClientPtr& client);
    Cursor& ownCursor(Request& req);  // by privateHandle, or "No such cursor"
    json::value describe(const Cursor& cursor) const;
    void tellOthers(const Document& document, const ClientPtr& except, const json::value& message);
    void removeCursor(const ClientPtr& client, ClientState& state, std::map<std::string, Cursor>::iterator it);
    void leaveDocument(const ClientPtr& client, ClientState& state, const std::string& key);
    std::uint16_t freeHandle(const Document& document);

    Options options_;
    HandleSource handles_;
    std::unordered_map<std::string, Document> documents_;
    std::unordered_map<const Client*, ClientState> clients_;
};

}  // namespace snorky
