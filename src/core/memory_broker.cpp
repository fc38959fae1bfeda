#include "snorky/broker.hpp"

namespace snorky {

void MemoryBroker::publish(const std::string& topic, const FramePtr& frame) {
    auto it = listeners_.find(topic);
    if (it != listeners_.end()) it->second->onBrokerMessage(topic, frame);
}

void MemoryBroker::subscribe(const std::string& topic, BrokerListener* listener) {
    listeners_[topic] = listener;
}

void MemoryBroker::unsubscribe(const std::string& topic) { listeners_.erase(topic); }

}  // namespace snorky
