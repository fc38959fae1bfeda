#pragma once
// A Delta is one change to one row of the application's database, as the
// backend reports it (protocol.md section 7):
//   {"type": "insert" | "delete", "model", "data"}
//   {"type": "update", "model", "newData", "oldData"}
#include <string>
#include <string_view>

#include "snorky/protocol/json.hpp"

namespace snorky::datasync {

struct Delta {
    enum class Type { Insert, Update, Delete };

    Type type = Type::Insert;
    std::string model;
    json::value data;     // insert and delete
    json::value newData;  // update
    json::value oldData;  // update

    static Delta insert(std::string model, json::value data);
    static Delta update(std::string model, json::value newData, json::value oldData);
    static Delta remove(std::string model, json::value data);

    // Reads a delta sent by the backend. Throws RpcError with the protocol's
    // texts ("Missing field", "model must be string", "Invalid delta type");
    // a delta that is not an object is "Invalid params".
    static Delta parse(const json::value& value);

    // The wire shape above; fields the backend added beyond it are not kept.
    json::object toJson() const;
};

std::string_view toString(Delta::Type type);

}  // namespace snorky::datasync
