#include "transport/static_files.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace snorky {
namespace fs = std::filesystem;

namespace {
// Percent-decodes a URL path; nullopt for malformed escapes or NUL bytes.
std::optional<std::string> decode(std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return std::nullopt;
            auto hex = [](char h) -> int {
                if (h >= '0' && h <= '9') return h - '0';
                if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                return -1;
            };
            int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') return std::nullopt;
        out += c;
    }
    return out;
}
}  // namespace

StaticFiles::StaticFiles(const std::string& root) {
    std::error_code ec;
    root_ = fs::canonical(root, ec);
    if (ec || !fs::is_directory(root_)) throw std::invalid_argument("static_dir '" + root + "' is not a folder");
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
    auto decoded = decode(urlPath);
    if (!decoded || decoded->empty() || (*decoded)[0] != '/') return std::nullopt;
    fs::path relative = fs::path(decoded->substr(1)).lexically_normal();
    for (const auto& part : relative) {
        std::string name = part.string();
        if (name == ".." || (!name.empty() && name[0] == '.' && name != ".")) return std::nullopt;
    }
    fs::path candidate = root_ / relative;
    std::error_code ec;
    if (fs::is_directory(candidate, ec)) candidate /= "index.html";
    // The URL cannot climb out (no "..", no dotfiles); symlinks inside the
    // folder are the operator's choice and are followed, as web servers do.
    fs::path real = candidate;
    if (!fs::is_regular_file(real, ec)) return std::nullopt;
    if (fs::file_size(real, ec) > kMaxFileSize || ec) return std::nullopt;
    std::ifstream in(real, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream body;
    body << in.rdbuf();
    return File{std::string(contentType(real)), body.str()};
}

}  // namespace snorky
