#pragma once
// Serves a folder of static files (demo pages, the JS client) from a
// WebSocket listener. Paths never escape the folder.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace snorky {

class StaticFiles {
public:
    static constexpr std::uintmax_t kMaxFileSize = 16 * 1024 * 1024;

    // Throws std::invalid_argument when the folder does not exist.
    explicit StaticFiles(const std::string& root);

    struct File {
        std::string contentType;
        std::string body;
    };
    // The file for a URL path ("/", "/chat/", "/lib/snorky.js"), or nullopt:
    // missing, outside the root, a dotfile, or too large.
    std::optional<File> lookup(std::string_view urlPath) const;

    static std::string_view contentType(const std::filesystem::path& file);

private:
    std::filesystem::path root_;
};

}  // namespace snorky
