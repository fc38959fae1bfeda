// Envelope decoding and RPC params checking (src/protocol/envelope.cpp,
// src/core/rpc_service.cpp) plus the JSON helpers (src/protocol/json.cpp): the
// input is one inbound text message, processed by a registry that holds an
// RpcService with a command for every param type. The handlers use the
// typed accessors, canonicalJson and findPath the way services do.
#include <string>

#include "finite.hpp"
#include "fuzz_check.hpp"
#include "snorky/core/log.hpp"
#include "snorky/core/rpc_service.hpp"
#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::testing;

namespace {

bool hasDouble(const json::value& value) {
    if (value.is_double()) return true;
    if (const json::array* array = value.if_array())
        for (const auto& item : *array)
            if (hasDouble(item)) return true;
    if (const json::object* object = value.if_object())
        for (const auto& member : *object)
            if (hasDouble(member.value())) return true;
    return false;
}

// Canonical keys name channels and documents: a key must parse back to the
// value it names. Boost.JSON 1.81 parses doubles imprecisely (by up to an
// ulp: "1844674407370954161.515" gives a key that parses to a neighbour), so
// the key is stable across a round trip only without doubles.
void checkCanonical(const json::value& value) {
    if (fuzz::hasNonFinite(value)) return;  // see finite.hpp
    std::string key = canonicalJson(value);
    json::error_code ec;
    json::value again = json::parse(key, ec);
    FUZZ_CHECK(!ec);
    FUZZ_CHECK(hasDouble(value) || canonicalJson(again) == key);
}

class Probe : public RpcService {
public:
    Probe() : RpcService("fuzz") {
        command("any", {required("value")}, [](Request& r) {
            checkCanonical(r.param("value"));
            return r.param("value");
        });
        command("typed",
                {required("s", ParamType::String), required("n", ParamType::Number), required("i", ParamType::Integer),
                 optional("b", ParamType::Boolean, false), optional("o", ParamType::Object, json::object{}),
                 optional("a", ParamType::Array, json::array{})},
                [](Request& r) {
                    FUZZ_CHECK(r.param("s").is_string() && r.param("n").is_number() && r.param("b").is_bool() &&
                               r.param("o").is_object() && r.param("a").is_array());
                    json::object out;
                    out["s"] = r.string("s");
                    out["n"] = r.number("n");
                    out["i"] = r.integer("i");
                    out["b"] = r.boolean("b");
                    return out;
                });
        command("path", {required("data", ParamType::Object), required("path", ParamType::String)}, [](Request& r) {
            const json::value* found = findPath(r.param("data"), r.string("path"));
            return found ? *found : json::value(nullptr);
        });
        command("fail", {optional("text", ParamType::String, "failed")},
                [](Request& r) -> json::value { throw RpcError(std::string(r.string("text"))); });
        asyncCommand("later", {optional("now", ParamType::Boolean, true)}, [](const RequestPtr& r) {
            if (r->boolean("now")) r->resolve(r->params());
        });  // else dropped unresolved: answers "Internal error"
    }
};

struct Fixture {
    TestNode node;
    Fixture() {
        log::setLevel(log::Level::Off);  // "dropped unresolved" would flood stderr
        node.registry.registerService(std::make_shared<Probe>());
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Fixture fixture;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto client = FakeClient::make();
    fixture.node.registry.processMessage(client, text);
    auto parsed = parseEnvelope(text);
    auto* envelope = std::get_if<Envelope>(&parsed);
    // Exactly one outcome: a reply or a drop, and every reply is valid JSON
    // (unless the message held a non-finite number, see finite.hpp).
    FUZZ_CHECK(client->frames.size() + client->drops.size() == 1);
    if (!envelope || !fuzz::hasNonFinite(envelope->message)) {
        for (const auto& frame : client->frames) {
            json::error_code ec;
            json::value reply = json::parse(frame->payload(), ec);
            FUZZ_CHECK(!ec && reply.is_object());
        }
    }
    if (envelope) {
        checkCanonical(envelope->message);
        auto again = parseEnvelope(serializeEnvelope(envelope->service, envelope->message));
        FUZZ_CHECK(std::holds_alternative<Envelope>(again) || fuzz::hasNonFinite(envelope->message));
    }
    return 0;
}
