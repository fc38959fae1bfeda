#include "snorky/services/cursors.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <random>

#include "snorky/errors.hpp"
#include "snorky/node.hpp"

namespace snorky {

namespace {
CursorsService::HandleSource randomHandles() {
    auto engine = std::make_shared<std::mt19937>(std::random_device{}());
    return [engine] { return static_cast<std::uint16_t>(std::uniform_int_distribution<unsigned>(0, 0xffff)(*engine)); };
}
constexpr std::size_t kHandleSpace = 0x10000;

// A public handle read back from the cluster state, which other nodes (or
// anyone who can write to Redis) wrote: 0..65535, or nothing.
std::optional<std::uint16_t> handleFrom(const json::value& value) {
    auto integer = exactInteger(value);
    if (!integer || *integer < 0 || *integer > 0xffff) return std::nullopt;
    return static_cast<std::uint16_t>(*integer);
}
std::optional<std::uint16_t> handleFrom(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value > 0xffff) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}
}  // namespace

CursorsService::CursorsService(std::string name, Options options, HandleSource handles)
    : RpcService(std::move(name)),
      options_(options),
      handles_(handles ? std::move(handles) : randomHandles()),
      topicPrefix_("cursors:" + this->name() + ":"),
      statePrefix_("cursors:" + this->name() + ":doc:"),
      handlePrefix_("cursors:" + this->name() + ":handle:") {
    asyncCommand("join", {required("document")}, [this](const RequestPtr& req) {
        const ClientPtr& client = req->client();
        if (!client->authenticated()) return req->reject(errors::kNotAuthenticated);
        std::string key = canonicalJson(req->param("document"));
        ClientState& own = clients_[client.get()];
        bool already = std::find(own.documents.begin(), own.documents.end(), key) != own.documents.end();
        if (already || own.documents.size() >= options_.maxDocumentsPerClient) {
            if (own.documents.empty() && own.cursors.empty()) clients_.erase(client.get());
            return req->reject(already ? errors::kAlreadyJoined : errors::kTooManyDocuments);
        }
        auto [it, created] = documents_.try_emplace(key);
        Document& document = it->second;
        if (created) {
            document.value = req->param("document");
            node().broker().subscribe(topicFor(key), this);
        }
        document.clients.push_back(client);
        own.documents.push_back(key);
        // Every node's cursors, from the shared map.
        node().broker().mapRead(stateKey(key), [this, req, key](Broker::Result result,
                                                                std::map<std::string, std::string> fields) {
            auto it = documents_.find(key);
            if (it == documents_.end()) return req->reject(errors::kNotJoined);  // left meanwhile
            Document& document = it->second;
            if (result == Broker::Result::Ok) document.remote = remoteCursors(fields);
            std::map<std::uint16_t, json::value> all = document.remote;
            for (const auto& [handle, cursor] : document.cursors) all[handle] = describe(*cursor);
            json::array cursors;
            cursors.reserve(all.size());
            for (auto& [handle, cursor] : all) cursors.push_back(std::move(cursor));
            req->resolve(json::object{{"cursors", std::move(cursors)}});
        });
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
    asyncCommand("createCursor",
                 {required("privateHandle"), required("document"), required("position"), required("status")},
                 [this](const RequestPtr& req) {
                     const ClientPtr& client = req->client();
                     if (!client->authenticated()) return req->reject(errors::kNotAuthenticated);
                     std::string documentKey = canonicalJson(req->param("document"));
                     ClientState* own = state(client);
                     if (!own || std::find(own->documents.begin(), own->documents.end(), documentKey) ==
                                     own->documents.end())
                         return req->reject(errors::kNotJoined);
                     std::string privateKey = canonicalJson(req->param("privateHandle"));
                     if (own->cursors.count(privateKey) ||
                         std::find(own->creating.begin(), own->creating.end(), privateKey) != own->creating.end())
                         return req->reject(errors::kReusedHandle);
                     if (own->cursors.size() + own->creating.size() >= options_.maxCursorsPerClient)
                         return req->reject(errors::kTooManyCursors);
                     if (json::serialize(req->param("position")).size() + json::serialize(req->param("status")).size() >
                         options_.maxCursorBytes)
                         return req->reject(errors::kCursorTooLarge);
                     own->creating.push_back(privateKey);
                     create(req, 0);
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
        share(cursor);
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
    // Through the Broker: this node's clients at once (the acting one
    // excluded), every other node's through one message.
    node().broker().publish(topicFor(canonicalJson(document.value)), frame(message), except.get());
}

void CursorsService::onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) {
    auto it = documents_.find(topic.substr(topicPrefix_.size()));
    if (it == documents_.end()) return;
    Document& document = it->second;
    if (!origin.local) {
        // Another node's cursor: remember it for joins and for noticing its node's death.
        try {
            json::value message = json::parse(frame->payload()).at("message");
            const json::value& cursor = message.at("cursor");
            if (auto handle = handleFrom(cursor.at("publicHandle"))) {
                if (message.at("type") == "cursorRemoved") document.remote.erase(*handle);
                else document.remote[*handle] = cursor;
            }
        } catch (const std::exception&) {
        }
    }
    for (const ClientPtr& other : document.clients)
        if (!origin.isSender(other.get())) other->send(frame);
}

std::int64_t CursorsService::epochMillis() {
    // Calendar time: the expiry stamps are read by other nodes.
    return std::chrono::duration_cast<std::chrono::milliseconds>(node().clock().wallNow().time_since_epoch()).count();
}

std::string CursorsService::handleKey(const std::string& documentKey, std::uint16_t handle) const {
    return handlePrefix_ + documentKey + '\x1f' + std::to_string(handle);
}

void CursorsService::share(const Cursor& cursor, Broker::Done done) {
    json::object entry{{"node", node().broker().nodeId()},
                       {"expires", epochMillis() + options_.cursorTtl.count()},
                       {"cursor", describe(cursor)}};
    node().broker().mapSet(stateKey(cursor.documentKey), std::to_string(cursor.publicHandle), json::serialize(entry),
                           options_.cursorTtl, std::move(done));
}

std::map<std::uint16_t, json::value> CursorsService::remoteCursors(const std::map<std::string, std::string>& fields) {
    std::map<std::uint16_t, json::value> out;
    std::int64_t now = epochMillis();
    for (const auto& [handle, text] : fields) {
        try {
            json::value entry = json::parse(text);
            if (entry.at("node").as_string() == node().broker().nodeId()) continue;
            auto expires = exactInteger(entry.at("expires"));
            auto publicHandle = handleFrom(handle);
            if (!expires || *expires <= now || !publicHandle) continue;
            out[*publicHandle] = entry.at("cursor");
        } catch (const std::exception&) {
        }
    }
    return out;
}

void CursorsService::create(const RequestPtr& req, int attempt) {
    std::string documentKey = canonicalJson(req->param("document"));
    Document& document = documents_.at(documentKey);
    std::uint16_t handle;
    try {
        handle = freeHandle(document);
    } catch (const RpcError& error) {
        ClientState& own = *state(req->client());
        own.creating.erase(std::find(own.creating.begin(), own.creating.end(), canonicalJson(req->param("privateHandle"))));
        return req->reject(error.what());
    }
    // Unique in the document on every node: claimed in the cluster state.
    node().broker().claimKey(handleKey(documentKey, handle), node().broker().nodeId(), options_.cursorTtl,
                             [this, req, attempt, handle, documentKey](Broker::Result result) {
        const ClientPtr& client = req->client();
        ClientState* own = state(client);
        std::string privateKey = canonicalJson(req->param("privateHandle"));
        auto pending = own ? std::find(own->creating.begin(), own->creating.end(), privateKey) : std::vector<std::string>::iterator();
        bool joined = own && std::find(own->documents.begin(), own->documents.end(), documentKey) != own->documents.end();
        if (!own || pending == own->creating.end() || !joined) {
            // Left (or disconnected) while the handle was being claimed.
            if (own && pending != own->creating.end()) own->creating.erase(pending);
            if (result == Broker::Result::Ok) node().broker().releaseKey(handleKey(documentKey, handle), node().broker().nodeId());
            return req->reject(errors::kNotJoined);
        }
        Document& document = documents_.at(documentKey);
        if (result == Broker::Result::Taken || document.cursors.count(handle)) {
            if (attempt < 8) return create(req, attempt + 1);  // another node took it: draw again
            own->creating.erase(pending);
            return req->reject(errors::kTooManyCursors);
        }
        // Unavailable: the engine is down; the handle is unique on this node.
        own->creating.erase(pending);
        Cursor& cursor = own->cursors[privateKey];
        cursor.publicHandle = handle;
        cursor.documentKey = documentKey;
        cursor.position = req->param("position");
        cursor.status = req->param("status");
        cursor.owner = client->identity();
        document.cursors.emplace(handle, &cursor);
        tellOthers(document, client, json::object{{"type", "cursorAdded"}, {"cursor", describe(cursor)}});
        // Answered once the cursor is in the cluster state: a join on any node
        // right after this reply lists it.
        share(cursor, [req, handle](Broker::Result) { req->resolve(handle); });
    });
}

CursorsService::~CursorsService() {
    if (!attached()) return;
    node().timers().cancel(heartbeatTimer_);
    for (const auto& [key, document] : documents_) node().broker().unsubscribe(topicFor(key));
}

void CursorsService::onAttach() {
    heartbeatTimer_ = node().timers().schedule(options_.cursorTtl / 3, [this] { heartbeat(); });
}

void CursorsService::heartbeat() {
    grace_.observe(node().broker(), node().clock().now(), options_.cursorTtl);
    for (auto& [key, document] : documents_) {
        for (const auto& [handle, cursor] : document.cursors) {
            share(*cursor);
            node().broker().refreshKey(handleKey(key, handle), node().broker().nodeId(), options_.cursorTtl);
        }
        // Cursors of a node that stopped refreshing: tell our clients they are gone.
        node().broker().mapRead(stateKey(key), [this, key = key](Broker::Result result,
                                                                  std::map<std::string, std::string> fields) {
            if (result != Broker::Result::Ok) return;
            auto it = documents_.find(key);
            if (it == documents_.end()) return;
            Document& document = it->second;
            std::map<std::uint16_t, json::value> live = remoteCursors(fields);
            if (grace_.active(node().clock().now())) {
                for (auto& [handle, cursor] : live) document.remote[handle] = std::move(cursor);
                return;  // the others may not have set their cursors again yet
            }
            for (const auto& [handle, cursor] : document.remote) {
                if (live.count(handle)) continue;
                FramePtr gone = frame(json::object{
                    {"type", "cursorRemoved"},
                    {"cursor", json::object{{"publicHandle", handle}, {"document", document.value}}}});
                for (const ClientPtr& client : document.clients) client->send(gone);
            }
            for (const auto& [handle, text] : fields) {
                auto publicHandle = handleFrom(handle);
                if (!publicHandle || (!live.count(*publicHandle) && !document.cursors.count(*publicHandle)))
                    node().broker().mapDelete(stateKey(key), handle);  // tidy up after the dead (and garbage)
            }
            document.remote = std::move(live);
        });
    }
    heartbeatTimer_ = node().timers().schedule(options_.cursorTtl / 3, [this] { heartbeat(); });
}

void CursorsService::removeCursor(const ClientPtr& client, ClientState& own,
                                  std::map<std::string, Cursor>::iterator it) {
    Document& document = documents_.at(it->second.documentKey);
    document.cursors.erase(it->second.publicHandle);
    node().broker().mapDelete(stateKey(it->second.documentKey), std::to_string(it->second.publicHandle));
    node().broker().releaseKey(handleKey(it->second.documentKey, it->second.publicHandle), node().broker().nodeId());
    tellOthers(document, client,
               json::object{{"type", "cursorRemoved"},
                            {"cursor", json::object{{"publicHandle", it->second.publicHandle},
                                                    {"document", document.value}}}});
    own.cursors.erase(it);
}

void CursorsService::leaveDocument(const ClientPtr& client, ClientState& own, std::string key) {
    for (auto it = own.cursors.begin(); it != own.cursors.end();) {
        auto next = std::next(it);
        if (it->second.documentKey == key) removeCursor(client, own, it);
        it = next;
    }
    own.documents.erase(std::find(own.documents.begin(), own.documents.end(), key));
    auto document = documents_.find(key);
    auto& clients = document->second.clients;
    clients.erase(std::remove(clients.begin(), clients.end(), client), clients.end());
    if (clients.empty()) {
        documents_.erase(document);
        node().broker().unsubscribe(topicFor(key));
    }
}

std::uint16_t CursorsService::freeHandle(const Document& document) {
    auto taken = [&document](std::uint16_t h) { return document.cursors.count(h) || document.remote.count(h); };
    if (document.cursors.size() + document.remote.size() >= kHandleSpace) throw RpcError(errors::kTooManyCursors);
    // Random first (handles should not be guessable in order); a crowded
    // document falls back to scanning from a random point.
    for (int attempt = 0; attempt < 32; ++attempt) {
        std::uint16_t candidate = handles_();
        if (!taken(candidate)) return candidate;
    }
    std::uint16_t candidate = handles_();
    while (taken(candidate)) ++candidate;  // wraps at 65535; a free one exists
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
