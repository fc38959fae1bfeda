#include "snorky/protocol/drop_reason.hpp"

namespace snorky {

std::string_view describe(DropReason reason) {
    switch (reason) {
        case DropReason::InvalidJson: return "invalid JSON";
        case DropReason::NotAnObject: return "envelope is not an object";
        case DropReason::MalformedEnvelope: return "envelope without service or message";
        case DropReason::UnknownService: return "unknown service";
        case DropReason::MalformedMessage: return "malformed message";
        case DropReason::NumberOutOfRange: return "number out of range";
    }
    return "unknown";
}

}  // namespace snorky
