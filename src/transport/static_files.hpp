#pragma once
// Serves a folder of static files (demo pages, the JS client) from a
// WebSocket listener. No URL can name a file outside the folder: the path is
// checked segment by segment after decoding, and the file found is resolved
// (symlinks included) and must still lie inside the folder.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace snorky {

class StaticFiles {
public:
    static constexpr std::uintmax_t kMaxFileSize = 16 * 1024 * 1024;
    static constexpr std::size_t kMaxUrlPath = 4096;
    static constexpr std::size_t kMaxSegment = 255;  // NAME_MAX

    // Throws std::invalid_argument when the folder does not exist.
    // followSymlinks: serve files reached through a symlink that points out
    // of the folder (the operator put it there); off, such files are 404.
    explicit StaticFiles(const std::string& root, bool followSymlinks = false);

    struct File {
        std::string contentType;
        std::string body;
    };
    // The file for a URL path ("/", "/chat/", "/lib/snorky.js"), or nullopt:
    // missing, outside the root, a dotfile, or too large.
    std::optional<File> lookup(std::string_view urlPath) const;

    // The decoded path segments of a URL path, or nullopt when the path may
    // not name a file: not starting with '/', a malformed or NUL escape, an
    // empty segment ("//x"), ".", "..", a dotfile, '/' or '\' or a control
    // character inside a segment (encoded or not), or over the length
    // limits. A trailing '/' gives a last empty segment (a folder).
    // Pure: the fuzz target and unit tests call it directly.
    static std::optional<std::vector<std::string>> segments(std::string_view urlPath);

    static std::string_view contentType(const std::filesystem::path& file);

private:
    std::filesystem::path root_;  // canonical
    bool followSymlinks_;
};

}  // namespace snorky
