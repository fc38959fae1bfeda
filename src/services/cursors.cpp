#include "snorky/services/cursors.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <random>

#include "snorky/core/node.hpp"
#include "snorky/protocol/errors.hpp"

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
// One field per cursor: "<public handle>" = {"node", "expires", "cursor"}.
class CursorsLayout final : public ClusterPresence::Layout {
public:
    std::string field(const ClusterPresence::Entry& e) const override { return e.member; }
    std::string value(const ClusterPresence::Entry& e) const override {
        return json::serialize(json::object{{"node", e.node}, {"expires", e.expires}, {"cursor", e.data}});
    }
    std::optional<ClusterPresence::Entry> parse(const std::string& field, const std::string& value) const override {
        if (!handleFrom(field)) return std::nullopt;
        try {
            json::value entry = json::parse(value);
            auto expires = exactInteger(entry.at("expires"));
            if (!expires) return std::nullopt;
            return ClusterPresence::Entry{field, std::string(entry.at("node").as_string()), *expires,
                                          entry.at("cursor")};
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
};
}  // namespace

CursorsService::CursorsService(std::string name, Options options, HandleSource handles)
    : RpcService(std::move(name)),
      options_(options),
      handles_(handles ? std::move(handles) : randomHandles()),
      topicPrefix_("cursors:" + this->name() + ":"),
      handlePrefix_("cursors:" + this->name() + ":handle:"),
      presence_("cursors:" + this->name() + ":doc:", options.cursorTtl, std::make_unique<CursorsLayout>()) {
    asyncCommand("join", {required("document")}, &CursorsService::join);
    command("leave", {required("document")}, &CursorsService::leave);
    asyncCommand("createCursor",
                 {required("privateHandle"), required("document"), required("position"), required("status")},
                 &CursorsService::createCursor);
    command("updateCursor", {required("privateHandle"), required("newData", ParamType::Object)},
            &CursorsService::updateCursor);
    command("removeCursor", {required("privateHandle")}, &CursorsService::removeCursor);
}

CursorsService::~CursorsService() {
    if (!attached()) return;
    for (const auto& [key, document] : documents_) node().broker().unsubscribe(topicFor(key));
}

void CursorsService::onAttach() {
    presence_.start(
        node(), [this](const std::string& key, const std::string& handle, const json::value&) { onGone(key, handle); },
        [this](const std::string& key, const std::string& handle) {
            // The public handle's claim lives as long as the cursor.
            node().cluster().refreshKey(handleKey(key, *handleFrom(handle)), node().broker().nodeId(),
                                       options_.cursorTtl);
        });
}

// ---- commands ----

void CursorsService::join(const RequestPtr& req) {
    const ClientPtr& client = authenticated(*req);
    std::string key = canonicalJson(req->param("document"));
    ClientState& own = clients_[client.get()];
    bool already = hasJoined(&own, key);
    if (already || own.documents.size() >= options_.maxDocumentsPerClient) {
        if (own.documents.empty() && own.cursors.empty()) clients_.erase(client.get());
        throw RpcError(already ? errors::kAlreadyJoined : errors::kTooManyDocuments);
    }
    auto [it, created] = documents_.try_emplace(key);
    Document& document = it->second;
    if (created) {
        document.value = req->param("document");
        node().broker().subscribe(topicFor(key), this);
        presence_.open(key);
    }
    document.clients.push_back(client);
    own.documents.push_back(key);
    presence_.read(key, [this, req, key](bool, const ClusterPresence::Members& others) { onJoinRead(req, key, others); });
}

void CursorsService::onJoinRead(const RequestPtr& req, const std::string& key, const ClusterPresence::Members& others) {
    auto it = documents_.find(key);
    if (it == documents_.end()) return req->reject(errors::kNotJoined);  // left meanwhile
    std::map<std::uint16_t, json::value> all;  // every node's cursors, by public handle
    for (const auto& [handle, cursor] : others) all[*handleFrom(handle)] = cursor;
    for (const auto& [handle, cursor] : it->second.cursors) all[handle] = describe(*cursor);
    json::array cursors;
    cursors.reserve(all.size());
    for (auto& [handle, cursor] : all) cursors.push_back(std::move(cursor));
    req->resolve(json::object{{"cursors", std::move(cursors)}});
}

void CursorsService::leave(Request& req) {
    const ClientPtr& client = authenticated(req);
    std::string key = canonicalJson(req.param("document"));
    ClientState* own = state(client);
    if (!hasJoined(own, key)) throw RpcError(errors::kNotJoined);
    leaveDocument(client, *own, key);
    if (own->documents.empty()) clients_.erase(client.get());
}

void CursorsService::createCursor(const RequestPtr& req) {
    const ClientPtr& client = authenticated(*req);
    ClientState* own = state(client);
    if (!hasJoined(own, canonicalJson(req->param("document")))) throw RpcError(errors::kNotJoined);
    std::string privateKey = canonicalJson(req->param("privateHandle"));
    if (own->cursors.count(privateKey) ||
        std::find(own->creating.begin(), own->creating.end(), privateKey) != own->creating.end())
        throw RpcError(errors::kReusedHandle);
    if (own->cursors.size() + own->creating.size() >= options_.maxCursorsPerClient)
        throw RpcError(errors::kTooManyCursors);
    if (json::serialize(req->param("position")).size() + json::serialize(req->param("status")).size() >
        options_.maxCursorBytes)
        throw RpcError(errors::kCursorTooLarge);
    own->creating.push_back(privateKey);
    create(req, 0);
}

void CursorsService::updateCursor(Request& req) {
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
}

void CursorsService::removeCursor(Request& req) {
    const ClientPtr& client = authenticated(req);
    ownCursor(req);  // "No such cursor" when absent
    ClientState& own = *state(client);
    dropCursor(client, own, own.cursors.find(canonicalJson(req.param("privateHandle"))));
}

// ---- helpers ----

std::size_t CursorsService::cursorCount(const json::value& document) const {
    auto it = documents_.find(canonicalJson(document));
    return it == documents_.end() ? 0 : it->second.cursors.size();
}

CursorsService::ClientState* CursorsService::state(const ClientPtr& client) {
    auto it = clients_.find(client.get());
    return it == clients_.end() ? nullptr : &it->second;
}

bool CursorsService::hasJoined(const ClientState* own, const std::string& documentKey) const {
    return own && std::find(own->documents.begin(), own->documents.end(), documentKey) != own->documents.end();
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

json::value CursorsService::removedMessage(const Document& document, std::uint16_t handle) const {
    return json::object{{"type", "cursorRemoved"},
                        {"cursor", json::object{{"publicHandle", handle}, {"document", document.value}}}};
}

void CursorsService::tellOthers(const Document& document, const ClientPtr& except, const json::value& message) {
    // Through the Broker: this node's clients at once (the acting one
    // excluded), every other node's through one message.
    node().broker().publish(topicFor(canonicalJson(document.value)), frame(message), except.get());
}

std::string CursorsService::handleKey(const std::string& documentKey, std::uint16_t handle) const {
    return handlePrefix_ + documentKey + '\x1f' + std::to_string(handle);
}

void CursorsService::share(const Cursor& cursor, ClusterState::Done done) {
    presence_.set(cursor.documentKey, std::to_string(cursor.publicHandle), describe(cursor), std::move(done));
}

// ---- creating a cursor ----

void CursorsService::create(const RequestPtr& req, int attempt) {
    std::string documentKey = canonicalJson(req->param("document"));
    std::uint16_t handle;
    try {
        handle = freeHandle(documentKey, documents_.at(documentKey));
    } catch (const RpcError& error) {
        ClientState& own = *state(req->client());
        own.creating.erase(std::find(own.creating.begin(), own.creating.end(), canonicalJson(req->param("privateHandle"))));
        return req->reject(error.what());
    }
    // Unique in the document on every node: claimed in the cluster state.
    node().cluster().claimKey(handleKey(documentKey, handle), node().broker().nodeId(), options_.cursorTtl,
                             [this, req, attempt, handle, documentKey](ClusterState::Result result) {
                                 onHandleClaimed(req, attempt, handle, documentKey, result);
                             });
}

void CursorsService::onHandleClaimed(const RequestPtr& req, int attempt, std::uint16_t handle,
                                     const std::string& documentKey, ClusterState::Result result) {
    ClientState* own = state(req->client());
    std::string privateKey = canonicalJson(req->param("privateHandle"));
    auto pending = own ? std::find(own->creating.begin(), own->creating.end(), privateKey) : std::vector<std::string>::iterator();
    if (!own || pending == own->creating.end() || !hasJoined(own, documentKey)) {
        // Left (or disconnected) while the handle was being claimed.
        if (own && pending != own->creating.end()) own->creating.erase(pending);
        if (result == ClusterState::Result::Ok) node().cluster().releaseKey(handleKey(documentKey, handle), node().broker().nodeId());
        return req->reject(errors::kNotJoined);
    }
    Document& document = documents_.at(documentKey);
    if (result == ClusterState::Result::Taken || document.cursors.count(handle)) {
        if (attempt < 8) return create(req, attempt + 1);  // another node took it: draw again
        own->creating.erase(pending);
        return req->reject(errors::kTooManyCursors);
    }
    // Unavailable: the engine is down; the handle is unique on this node.
    own->creating.erase(pending);
    Cursor& cursor = addCursor(req, *own, document, handle);
    tellOthers(document, req->client(), json::object{{"type", "cursorAdded"}, {"cursor", describe(cursor)}});
    // Answered once the cursor is in the cluster state: a join on any node
    // right after this reply lists it.
    share(cursor, [req, handle](ClusterState::Result) { req->resolve(handle); });
}

CursorsService::Cursor& CursorsService::addCursor(const RequestPtr& req, ClientState& own, Document& document,
                                                  std::uint16_t handle) {
    Cursor& cursor = own.cursors[canonicalJson(req->param("privateHandle"))];
    cursor.publicHandle = handle;
    cursor.documentKey = canonicalJson(req->param("document"));
    cursor.position = req->param("position");
    cursor.status = req->param("status");
    cursor.owner = req->client()->identity();
    document.cursors.emplace(handle, &cursor);
    return cursor;
}

std::uint16_t CursorsService::freeHandle(const std::string& documentKey, const Document& document) {
    const ClusterPresence::Members& remote = presence_.elsewhere(documentKey);
    auto taken = [&](std::uint16_t h) { return document.cursors.count(h) || remote.count(std::to_string(h)); };
    if (document.cursors.size() + remote.size() >= kHandleSpace) throw RpcError(errors::kTooManyCursors);
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

// ---- deliveries and other nodes ----

void CursorsService::onBrokerMessage(const std::string& topic, const FramePtr& frame, const Origin& origin) {
    std::string key = topic.substr(topicPrefix_.size());
    auto it = documents_.find(key);
    if (it == documents_.end()) return;
    if (!origin.local) track(key, frame);
    for (const ClientPtr& other : it->second.clients)
        if (!origin.isSender(other.get())) other->send(frame);
}

void CursorsService::track(const std::string& documentKey, const FramePtr& frame) {
    try {
        json::value message = json::parse(frame->payload()).at("message");
        const json::value& cursor = message.at("cursor");
        if (auto handle = handleFrom(cursor.at("publicHandle"))) {
            if (message.at("type") == "cursorRemoved") presence_.heardLeft(documentKey, std::to_string(*handle));
            else presence_.heard(documentKey, std::to_string(*handle), cursor);
        }
    } catch (const std::exception&) {
    }
}

void CursorsService::onGone(const std::string& documentKey, const std::string& handle) {
    auto it = documents_.find(documentKey);
    if (it == documents_.end()) return;
    FramePtr gone = frame(removedMessage(it->second, *handleFrom(handle)));
    for (const ClientPtr& client : it->second.clients) client->send(gone);
}

// ---- leaving ----

void CursorsService::dropCursor(const ClientPtr& client, ClientState& own, std::map<std::string, Cursor>::iterator it) {
    const Cursor& cursor = it->second;
    Document& document = documents_.at(cursor.documentKey);
    document.cursors.erase(cursor.publicHandle);
    presence_.remove(cursor.documentKey, std::to_string(cursor.publicHandle));
    node().cluster().releaseKey(handleKey(cursor.documentKey, cursor.publicHandle), node().broker().nodeId());
    tellOthers(document, client, removedMessage(document, cursor.publicHandle));
    own.cursors.erase(it);
}

void CursorsService::leaveDocument(const ClientPtr& client, ClientState& own, std::string key) {
    for (auto it = own.cursors.begin(); it != own.cursors.end();) {
        auto next = std::next(it);
        if (it->second.documentKey == key) dropCursor(client, own, it);
        it = next;
    }
    own.documents.erase(std::find(own.documents.begin(), own.documents.end(), key));
    auto document = documents_.find(key);
    auto& clients = document->second.clients;
    clients.erase(std::remove(clients.begin(), clients.end(), client), clients.end());
    if (clients.empty()) {
        documents_.erase(document);
        presence_.close(key);
        node().broker().unsubscribe(topicFor(key));
    }
}

void CursorsService::onDisconnect(const ClientPtr& client) {
    auto it = clients_.find(client.get());
    if (it == clients_.end()) return;
    ClientState& own = it->second;
    while (!own.documents.empty()) leaveDocument(client, own, own.documents.back());
    clients_.erase(it);
}

json::object CursorsService::stats() const {
    std::size_t cursors = 0;
    for (const auto& [key, document] : documents_) cursors += document.cursors.size();
    return {{"documents", documents_.size()}, {"cursors", cursors}};
}

}  // namespace snorky
