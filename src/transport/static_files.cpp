#include "transport/static_files.hpp"

#include "snorky/core/log.hpp"

#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace snorky {
namespace fs = std::filesystem;

namespace {
int hexDigit(char h) {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
}

// Percent-decodes one path segment once (so "%252f" is the name "%2f", never
// a separator); nullopt for a malformed escape or a byte no file name in the
// folder may hold.
std::optional<std::string> decodeSegment(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return std::nullopt;
            int hi = hexDigit(in[i + 1]), lo = hexDigit(in[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f || c == '/' || c == '\\') return std::nullopt;
        out += c;
    }
    return out;
}

log::RateLimit outsideLog;
std::mutex outsideLogLock;

// True when `path` is `root` or below it; both canonical.
bool within(const fs::path& root, const fs::path& path) {
    auto r = root.begin(), p = path.begin();
    for (; r != root.end(); ++r, ++p)
        if (p == path.end() || *p != *r) return false;
    return true;
}
}  // namespace

StaticFiles::StaticFiles(const std::string& root, bool followSymlinks) : followSymlinks_(followSymlinks) {
    std::error_code ec;
    root_ = fs::canonical(root, ec);
    if (ec || !fs::is_directory(root_)) throw std::invalid_argument("static_dir '" + root + "' is not a folder");
}

std::optional<std::vector<std::string>> StaticFiles::segments(std::string_view urlPath) {
    if (urlPath.empty() || urlPath[0] != '/' || urlPath.size() > kMaxUrlPath) return std::nullopt;
    std::vector<std::string> out;
    std::string_view rest = urlPath.substr(1);
    while (true) {
        std::size_t slash = rest.find('/');
        std::string_view raw = rest.substr(0, slash);
        bool last = slash == std::string_view::npos;
        auto name = decodeSegment(raw);
        if (!name || name->size() > kMaxSegment) return std::nullopt;
        // Empty only as the last segment ("/chat/"); "//x" could make an absolute path.
        if (name->empty() && !last) return std::nullopt;
        if (!name->empty() && (*name)[0] == '.') return std::nullopt;  // ".", "..", dotfiles
        out.push_back(std::move(*name));
        if (last) break;
        rest = rest.substr(slash + 1);
    }
    return out;
}

std::string_view StaticFiles::contentType(const fs::path& file) {
    std::string ext = file.extension().string();
    if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
    if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
    if (ext == ".css") return "text/css; charset=utf-8";
    if (ext == ".json" || ext == ".map") return "application/json";
    if (ext == ".svg") return "image/svg+xml";
    if (ext == ".png") return "image/png";
    if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
    if (ext == ".ico") return "image/x-icon";
    if (ext == ".txt" || ext == ".md") return "text/plain; charset=utf-8";
    if (ext == ".ts") return "text/plain; charset=utf-8";
    if (ext == ".wasm") return "application/wasm";
    return "application/octet-stream";
}

std::optional<StaticFiles::File> StaticFiles::lookup(std::string_view urlPath) const {
    auto parts = segments(urlPath);
    if (!parts) return std::nullopt;
    fs::path candidate = root_;
    for (const auto& part : *parts)
        if (!part.empty()) candidate /= part;  // each part is one plain name, never absolute
    std::error_code ec;
    if (fs::is_directory(candidate, ec)) candidate /= "index.html";
    // Resolve symlinks, then check containment again: a link inside the folder
    // may point anywhere on the machine.
    fs::path real = fs::canonical(candidate, ec);
    if (ec) return std::nullopt;
    if (!followSymlinks_ && !within(root_, real)) {
        // Says why a file that is there answers 404 (the operator may want the option).
        std::uint64_t suppressed = 0;
        std::lock_guard guard(outsideLogLock);
        if (outsideLog.allow(suppressed))
            SNORKY_LOG(Warn, "static file " << candidate.string() << " links out of static_dir; not served "
                                            "(static_follow_symlinks = true serves it)");
        return std::nullopt;
    }
    if (!fs::is_regular_file(real, ec)) return std::nullopt;
    if (fs::file_size(real, ec) > kMaxFileSize || ec) return std::nullopt;
    std::ifstream in(real, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream body;
    body << in.rdbuf();
    return File{std::string(contentType(candidate)), body.str()};
}

}  // namespace snorky
