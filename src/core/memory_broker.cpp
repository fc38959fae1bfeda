#include "snorky/core/memory_broker.hpp"

namespace snorky {

void MemoryBroker::publish(const std::string& topic, const FramePtr& frame, const Client* sender) {
    auto it = listeners_.find(topic);
    if (it != listeners_.end()) it->second->onBrokerMessage(topic, frame, Origin{sender, true});
}

void MemoryBroker::subscribe(const std::string& topic, BrokerListener* listener) {
    listeners_[topic] = listener;
}

void MemoryBroker::unsubscribe(const std::string& topic) { listeners_.erase(topic); }

void MemoryBroker::publishConfirmed(const std::string& topic, const FramePtr& frame, Confirmed confirmed) {
    publish(topic, frame, nullptr);
    confirmed(true);  // every listener there is has it
}

}  // namespace snorky

