#include "snorky/services/cursors.hpp"

#include <algorithm>
#include <memory>
#include <random>

#include "snorky/errors.hpp"

namespace snorky {

namespace {
CursorsService::HandleSource randomHandles() {
    auto engine = std::make_shared<std::mt19937>(std::random_device{}());
    return [engine] { return static_cast<std::uint16_t>(std::uniform_int_distribution<unsigned>(0, 0xffff)(*engine)); };
}
constexpr std::size_t kHandleSpace = 0x10000;
}  // namespace

CursorsService::CursorsService(std::string name, Options options, HandleSource handles)
    : RpcService(std::move(name)), options_(options), handles_(handles ? std::move(handles) : randomHandles()) {
    command("join", {required("document")}, [this](Request& req) {
        const ClientPtr& client = authenticated(req);
        std::string key = canonicalJson(req.param("document"));
        ClientState& own = clients_[client.get()];
        bool already = std::find(own.documents.begin(), own.documents.end(), key) != own.documents.end();
        if (already || own.documents.size() >= options_.maxDocumentsPerClient) {
            if (own.documents.empty() && own.cursors.empty()) clients_.erase(client.get());
            throw RpcError(already ? errors::kAlreadyJoined : errors::kTooManyDocuments);
        }
        auto [it, created] = documents_.try_emplace(key);
        Document& document = it->second;
        if (created) document.value = req.param("document");
        json::array cursors;
        cursors.reserve(document.cursors.size());
        for (const auto& [handle, cursor] : document.cursors) cursors.push_back(describe(*cursor));
        document.clients.push_back(client);
        own.documents.push_back(std::move(key));
        return json::object{{"cursors", std::move(cursors)}};
    });
    command("leave", {required("document")}, [this](Request& req) {
        const ClientPtr& client = authenticated(req);
        std::string key = canonicalJson(req.param("document"));
        ClientState* own = state(client);
        if (!own || std::find(own->documents.begin(), own->documents.end(), key) == own->documents.end())
            throw RpcError(errors::kNotJoined);
        leaveDocument(client, *own, key);
        if (own->documents.empty()) clients_.erase(client.get());
    });
    command("createCursor",
            {required("privateHandle"), required("document"), required("position"), required("status")},
            [this](Request& req) {
                const ClientPtr& client = authenticated(req);
                std::string documentKey = canonicalJson(req.param("document"));
                ClientState* own = state(client);
                if (!own || std::find(own->documents.begin(), own->documents.end(), documentKey) ==
                                own->documents.end())
                    throw RpcError(errors::kNotJoined);
                std::string privateKey = canonicalJson(req.param("privateHandle"));
                if (own->cursors.count(privateKey)) throw RpcError(errors::kReusedHandle);
                if (own->cursors.size() >= options_.maxCursorsPerClient) throw RpcError(errors::kTooManyCursors);
                if (json::serialize(req.param("position")).size() + json::serialize(req.param("status")).size() >
                    options_.maxCursorBytes)
                    throw RpcError(errors::kCursorTooLarge);
                Document& document = documents_.at(documentKey);
                std::uint16_t handle = freeHandle(document);

                Cursor& cursor = own->cursors[privateKey];
                cursor.publicHandle = handle;
                cursor.documentKey = std::move(documentKey);
                cursor.position = req.param("position");
                cursor.status = req.param("status");
                cursor.owner = client->identity();
                document.cursors.emplace(handle, &cursor);
                tellOthers(document, client, json::object{{"type", "cursorAdded"}, {"cursor", describe(cursor)}});
                return handle;
            });
    command("updateCursor", {required("privateHandle"), required("newData", ParamType::Object)}, [this](Request& req) {
        const ClientPtr& client = authenticated(req);
        Cursor& cursor = ownCursor(req);
        const json::object& newData = req.param("newData").as_object();
        for (const auto& field : newData)
            if (field.key() != "position" && field.key() != "status") throw RpcError(errors::kInvalidParams);
        const json::value* position = newData.if_contains("position");
        const json::value* status = newData.if_contains("status");
        std::size_t bytes = json::serialize(position ? *position : cursor.position).size() +
                            json::serialize(status ? *status : cursor.status).size();
        if (bytes > options_.maxCursorBytes) throw RpcError(errors::kCursorTooLarge);
        if (position) cursor.position = *position;
        if (status) cursor.status = *status;
        tellOthers(documents_.at(cursor.documentKey), client,
                   json::object{{"type", "cursorUpdated"}, {"cursor", describe(cursor)}});
    });
    command("removeCursor", {required("privateHandle")}, [this](Request& req) {
        const ClientPtr& client = authenticated(req);
        ownCursor(req);  // "No such cursor" when absent
        ClientState& own = *state(client);
        removeCursor(client, own, own.cursors.find(canonicalJson(req.param("privateHandle"))));
    });
}

std::size_t CursorsService::cursorCount(const json::value& document) const {
    auto it = documents_.find(canonicalJson(document));
    return it == documents_.end() ? 0 : it->second.cursors.size();
}

const ClientPtr& CursorsService::authenticated(Request& req) const {
    if (!req.client()->authenticated()) throw RpcError(errors::kNotAuthenticated);
    return req.client();
}

CursorsService::ClientState* CursorsService::state(const ClientPtr& client) {
    auto it = clients_.find(client.get());
    return it == clients_.end() ? nullptr : &it->second;
}

CursorsService::Cursor& CursorsService::ownCursor(Request& req) {
    ClientState* own = state(req.client());
    if (!own) throw RpcError(errors::kNoSuchCursor);
    auto it = own->cursors.find(canonicalJson(req.param("privateHandle")));
    if (it == own->cursors.end()) throw RpcError(errors::kNoSuchCursor);
    return it->second;
}

json::value CursorsService::describe(const Cursor& cursor) const {
    return json::object{{"publicHandle", cursor.publicHandle},
                        {"document", documents_.at(cursor.documentKey).value},
                        {"position", cursor.position},
                        {"status", cursor.status},
                        {"owner", cursor.owner}};
}

void CursorsService::tellOthers(const Document& document, const ClientPtr& except, const json::value& message) {
    FramePtr shared;  // serialized once, only if someone else is there
    for (const ClientPtr& other : document.clients) {
        if (other == except) continue;
        if (!shared) shared = frame(message);
        other->send(shared);
    }
}

void CursorsService::removeCursor(const ClientPtr& client, ClientState& own,
                                  std::map<std::string, Cursor>::iterator it) {
    Document& document = documents_.at(it->second.documentKey);
    document.cursors.erase(it->second.publicHandle);
    tellOthers(document, client,
               json::object{{"type", "cursorRemoved"},
                            {"cursor", json::object{{"publicHandle", it->second.publicHandle},
                                                    {"document", document.value}}}});
    own.cursors.erase(it);
}

void CursorsService::leaveDocument(const ClientPtr& client, ClientState& own, const std::string& key) {
    for (auto it = own.cursors.begin(); it != own.cursors.end();) {
        auto next = std::next(it);
        if (it->second.documentKey == key) removeCursor(client, own, it);
        it = next;
    }
    own.documents.erase(std::find(own.documents.begin(), own.documents.end(), key));
    auto document = documents_.find(key);
    auto& clients = document->second.clients;
    clients.erase(std::remove(clients.begin(), clients.end(), client), clients.end());
    if (clients.empty()) documents_.erase(document);
}

std::uint16_t CursorsService::freeHandle(const Document& document) {
    if (document.cursors.size() >= kHandleSpace) throw RpcError(errors::kTooManyCursors);
    // Random first (handles should not be guessable in order); a crowded
    // document falls back to scanning from a random point.
    for (int attempt = 0; attempt < 32; ++attempt) {
        std::uint16_t candidate = handles_();
        if (!document.cursors.count(candidate)) return candidate;
    }
    std::uint16_t candidate = handles_();
    while (document.cursors.count(candidate)) ++candidate;  // wraps at 65535; a free one exists
    return candidate;
}

void CursorsService::onDisconnect(const ClientPtr& client) {
    auto it = clients_.find(client.get());
    if (it == clients_.end()) return;
    ClientState& own = it->second;
    while (!own.documents.empty()) leaveDocument(client, own, own.documents.back());
    clients_.erase(it);
}

}  // namespace snorky
