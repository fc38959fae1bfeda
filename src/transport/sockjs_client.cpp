#include "transport/sockjs_client.hpp"

#include <boost/asio/post.hpp>
#include <mutex>

#include "snorky/core/log.hpp"
#include "snorky/protocol/ws_codec.hpp"
#include "transport/rate_limited_reply.hpp"
#include "transport/sockjs_listener.hpp"

namespace snorky {

namespace {
std::mutex logLock;
log::RateLimit slowLog;
log::RateLimit abuseLog;

bool allow(log::RateLimit& limit) {
    std::uint64_t suppressed = 0;
    std::lock_guard guard(logLock);
    return limit.allow(suppressed);
}
}  // namespace

SockJsClient::SockJsClient(SockJsListener& listener, std::string remote)
    : Client(std::move(remote)), listener_(listener) {
    rateLimiter_.start(listener.rateLimit(), listener.now());
}

void SockJsClient::send(const FramePtr& frame) {
    if (listener_.worker().onThisThread()) queue(frame);
    else listener_.deliver(self(), frame);
}

void SockJsClient::disconnect(std::uint16_t code, std::string_view reason) {
    // Posted even on this thread: the caller may be walking a list of clients.
    boost::asio::post(listener_.worker().ioc(),
                      [self = self(), code, reason = std::string(reason)] { self->close(code, reason); });
}

bool SockJsClient::receive(const std::vector<std::string>& messages) {
    auto& metrics = listener_.registry().node().metrics();
    for (const std::string& text : messages) {
        switch (rateLimiter_.admit(listener_.rateLimit(), listener_.now())) {
            case RateLimiter::Verdict::Allow:
                listener_.registry().processMessage(self(), text);
                break;
            case RateLimiter::Verdict::Refuse:
                metrics.rateLimited.fetch_add(1, std::memory_order_relaxed);
                if (FramePtr reply = rateLimitedReply(text, listener_.registry())) queue(reply);
                break;
            case RateLimiter::Verdict::Disconnect:
                metrics.rateLimited.fetch_add(1, std::memory_order_relaxed);
                metrics.rateLimitDisconnects.fetch_add(1, std::memory_order_relaxed);
                if (allow(abuseLog))
                    SNORKY_LOG(Warn, "disconnecting SockJS client " << remoteAddress() << " (1008): over rate_limit "
                                                                    << listener_.rateLimit().rate << "/s");
                close(ws::PolicyViolation, "Rate limit exceeded");
                return false;
        }
    }
    return true;
}

void SockJsClient::reportSlowConsumer(std::size_t bytes) {
    listener_.registry().node().metrics().slowConsumers.fetch_add(1, std::memory_order_relaxed);
    if (allow(slowLog))
        SNORKY_LOG(Warn, "disconnecting slow SockJS consumer " << remoteAddress() << ": " << bytes
                                                                << " bytes waiting (max_queue_bytes "
                                                                << listener_.base().maxQueueBytes << ")");
}

}  // namespace snorky
