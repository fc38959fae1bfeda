// Static file resolution (src/transport/static_files.cpp): the pure
// StaticFiles::segments on every input, then StaticFiles::lookup against a
// small folder made at start-up, next to a secret file that must never be
// served: not by `..`, encodings, absolute paths, nor the symlink that points
// at it from inside the folder (symlinks out are refused by default).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_check.hpp"
#include "transport/static_files.hpp"

using namespace snorky;
namespace fs = std::filesystem;

namespace {
constexpr std::string_view kSecret = "OUTSIDE-THE-ROOT";
constexpr std::string_view kDotSecret = "DOTFILE-IN-THE-ROOT";
fs::path top;

void write(const fs::path& path, std::string_view text) {
    std::ofstream(path, std::ios::binary) << text;
}

void removeTop() {
    std::error_code ec;
    fs::remove_all(top, ec);
}

const StaticFiles& files() {
    static const StaticFiles instance = [] {
        std::string pattern = (fs::temp_directory_path() / "snorky-fuzz-static-XXXXXX").string();
        FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
        top = pattern;
        std::atexit(removeTop);
        fs::create_directories(top / "root" / "sub" / "deeper");
        write(top / "secret.txt", kSecret);
        write(top / "root" / "index.html", "<h1>index</h1>");
        write(top / "root" / "app.js", "console.log(1)");
        write(top / "root" / "a b%.txt", "odd name");
        write(top / "root" / ".env", kDotSecret);
        write(top / "root" / "sub" / "index.html", "<h1>sub</h1>");
        write(top / "root" / "sub" / "page.css", "p{}");
        write(top / "root" / "sub" / "deeper" / "x.json", "{}");
        fs::create_symlink("../secret.txt", top / "root" / "link-out");
        fs::create_symlink("/", top / "root" / "sub" / "rootfs");
        fs::create_symlink("app.js", top / "root" / "link-in");
        return StaticFiles((top / "root").string());
    }();
    return instance;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const StaticFiles& root = files();
    std::string_view url(reinterpret_cast<const char*>(data), size);
    auto parts = StaticFiles::segments(url);
    if (parts) {
        for (std::size_t i = 0; i < parts->size(); ++i) {
            const std::string& part = (*parts)[i];
            FUZZ_CHECK(!part.empty() || i + 1 == parts->size());  // empty only last ("/sub/")
            FUZZ_CHECK(part.empty() || part[0] != '.');
            FUZZ_CHECK(part.size() <= StaticFiles::kMaxSegment);
            for (char c : part) {
                auto byte = static_cast<unsigned char>(c);
                FUZZ_CHECK(c != '/' && c != '\\' && byte >= 0x20 && byte != 0x7f);
            }
        }
    }
    auto file = root.lookup(url);
    if (file) {
        FUZZ_CHECK(parts.has_value());
        FUZZ_CHECK(file->body.find(kSecret) == std::string::npos);
        FUZZ_CHECK(file->body.find(kDotSecret) == std::string::npos);
        FUZZ_CHECK(!file->contentType.empty());
    }
    return 0;
}
