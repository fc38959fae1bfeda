#include "transport/published.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using snorky::Published;

namespace {
struct Settings {
    std::size_t limit;
    std::vector<std::string> origins;  // heap-owning, as listener settings are
};
}  // namespace

TEST(Published, ReadersSeeOneWholeVersionWhileAnotherThreadPublishes) {
    Published<Settings> settings(Settings{0, {"0"}});
    std::atomic<bool> done{false};
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r)
        readers.emplace_back([&] {
            std::size_t last = 0;
            while (!done.load()) {
                const Settings& now = settings.get();
                // A version is never seen half-written, and versions only go forward.
                ASSERT_EQ(now.origins.at(0), std::to_string(now.limit));
                ASSERT_GE(now.limit, last);
                last = now.limit;
            }
        });
    for (std::size_t v = 1; v <= 2000; ++v) settings.publish(Settings{v, {std::to_string(v)}});
    done = true;
    for (auto& t : readers) t.join();
    EXPECT_EQ(settings.get().limit, 2000u);
}

TEST(Published, AReferenceStaysValidAfterANewerVersion) {
    Published<Settings> settings(Settings{1, {"https://old.example"}});
    const Settings& held = settings.get();  // a session in the middle of a message
    settings.publish(Settings{2, {"https://new.example"}});
    EXPECT_EQ(held.origins.at(0), "https://old.example");
    EXPECT_EQ(settings.get().origins.at(0), "https://new.example");
}
