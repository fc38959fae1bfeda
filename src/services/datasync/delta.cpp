#include "snorky/services/datasync/delta.hpp"

#include "snorky/core/rpc_service.hpp"
#include "snorky/protocol/errors.hpp"

namespace snorky::datasync {

Delta Delta::insert(std::string model, json::value data) {
    return Delta{Type::Insert, std::move(model), std::move(data), nullptr, nullptr};
}

Delta Delta::update(std::string model, json::value newData, json::value oldData) {
    return Delta{Type::Update, std::move(model), nullptr, std::move(newData), std::move(oldData)};
}

Delta Delta::remove(std::string model, json::value data) {
    return Delta{Type::Delete, std::move(model), std::move(data), nullptr, nullptr};
}

namespace {
const json::value& field(const json::object& object, std::string_view key) {
    auto it = object.find(key);
    if (it == object.end()) throw RpcError(errors::kMissingField);
    return it->value();
}
}  // namespace

Delta Delta::parse(const json::value& value) {
    const json::object* object = value.if_object();
    if (!object) throw RpcError(errors::kInvalidParams);
    // Checked in the original's order: type and model present, model a
    // string, then the type, then the type's data fields.
    const json::value& type = field(*object, "type");
    const json::value& model = field(*object, "model");
    if (!model.is_string()) throw RpcError(errors::kModelNotString);
    const json::string* typeName = type.if_string();
    if (!typeName) throw RpcError(errors::kInvalidDeltaType);
    std::string modelName(model.as_string());
    if (*typeName == "insert") return insert(std::move(modelName), field(*object, "data"));
    if (*typeName == "delete") return remove(std::move(modelName), field(*object, "data"));
    if (*typeName == "update")
        return update(std::move(modelName), field(*object, "newData"), field(*object, "oldData"));
    throw RpcError(errors::kInvalidDeltaType);
}

json::object Delta::toJson() const {
    json::object out;
    out["type"] = toString(type);
    out["model"] = model;
    if (type == Type::Update) {
        out["newData"] = newData;
        out["oldData"] = oldData;
    } else {
        out["data"] = data;
    }
    return out;
}

std::string_view toString(Delta::Type type) {
    switch (type) {
        case Delta::Type::Insert: return "insert";
        case Delta::Type::Update: return "update";
        case Delta::Type::Delete: return "delete";
    }
    return "insert";
}

}  // namespace snorky::datasync
