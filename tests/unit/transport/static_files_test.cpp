#include "transport/static_files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

using snorky::StaticFiles;
namespace fs = std::filesystem;

namespace {
using Segments = std::vector<std::string>;

struct StaticRoot : ::testing::Test {
    fs::path base = fs::temp_directory_path() / ("snorky-static-" + std::to_string(::getpid()));
    fs::path root = base / "root";
    void SetUp() override {
        fs::remove_all(base);
        fs::create_directories(root / "sub");
        write(root / "index.html", "home");
        write(root / "sub" / "page.js", "page");
        write(root / "100%.txt", "percent");
        write(base / "secret.txt", "secret");
    }
    void TearDown() override { fs::remove_all(base); }
    static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
    std::optional<std::string> body(std::string_view url, bool follow = false) {
        auto file = StaticFiles(root.string(), follow).lookup(url);
        return file ? std::optional(file->body) : std::nullopt;
    }
};
}  // namespace

TEST(StaticPathSegments, PlainPathsDecodeToTheirNames) {
    EXPECT_EQ(StaticFiles::segments("/"), Segments{""});
    EXPECT_EQ(StaticFiles::segments("/a/b.js"), (Segments{"a", "b.js"}));
    EXPECT_EQ(StaticFiles::segments("/chat/"), (Segments{"chat", ""}));
    EXPECT_EQ(StaticFiles::segments("/caf%C3%A9"), Segments{"caf\xC3\xA9"});
    // Decoded once: a double-encoded slash is the literal name "%2f".
    EXPECT_EQ(StaticFiles::segments("/%252f"), Segments{"%2f"});
    EXPECT_EQ(StaticFiles::segments("/%252e%252e/x"), (Segments{"%2e%2e", "x"}));
}

TEST(StaticPathSegments, EveryWayOutIsRefused) {
    for (const char* evil :
         {"", "x", "//etc/passwd", "//proc/self/environ", "/%2fetc/passwd", "/%2Fetc/passwd", "/a/%2F..%2Fb",
          "/%5c..%5csecret.txt", "/%5C", "/a\\..\\b", "/..", "/../secret.txt", "/%2e%2e/secret.txt",
          "/%2E%2e/secret.txt", "/a/%2e%2e/%2e%2e/secret.txt", "/.%2e/x", "/./index.html", "/a//b", "/a/./b",
          "/.hidden", "/%2ehidden", "/%00", "/a%00.html", "/%0a", "/%7f", "/%", "/%2", "/%zz", "/%g0",
          "/a/../../secret.txt"})
        EXPECT_EQ(StaticFiles::segments(evil), std::nullopt) << evil;
}

TEST(StaticPathSegments, LengthLimits) {
    std::string longest = "/" + std::string(StaticFiles::kMaxSegment, 'a');
    EXPECT_TRUE(StaticFiles::segments(longest));
    EXPECT_FALSE(StaticFiles::segments(longest + "a"));
    std::string deep;
    while (deep.size() + 2 <= StaticFiles::kMaxUrlPath) deep += "/a";
    EXPECT_TRUE(StaticFiles::segments(deep));
    EXPECT_FALSE(StaticFiles::segments(deep + "/ab"));
    EXPECT_FALSE(StaticFiles::segments("/" + std::string(1 << 20, 'a')));
}

TEST_F(StaticRoot, ServesFilesAndFolderIndexes) {
    EXPECT_EQ(body("/"), "home");
    EXPECT_EQ(body("/index.html"), "home");
    EXPECT_EQ(body("/sub/page.js"), "page");
    EXPECT_EQ(body("/100%25.txt"), "percent");
    EXPECT_EQ(body("/sub/"), std::nullopt);  // no index.html there
    EXPECT_EQ(body("/missing"), std::nullopt);
}

TEST_F(StaticRoot, SymlinksOutOfTheRootAreRefusedUnlessAllowed) {
    fs::create_symlink(base / "secret.txt", root / "link.txt");
    fs::create_directory_symlink(base, root / "up");
    fs::create_symlink(root / "sub" / "page.js", root / "inside.js");
    EXPECT_EQ(body("/link.txt"), std::nullopt);
    EXPECT_EQ(body("/up/secret.txt"), std::nullopt);
    EXPECT_EQ(body("/inside.js"), "page");  // a link that stays inside is fine
    EXPECT_EQ(body("/link.txt", true), "secret");
    EXPECT_EQ(body("/up/secret.txt", true), "secret");
}

TEST_F(StaticRoot, AbsoluteAndEncodedPathsNeverLeaveTheRoot) {
    std::string secret = (base / "secret.txt").string();
    for (const std::string& evil : std::vector<std::string>{"//" + secret.substr(1), "/%2f" + secret.substr(1), "/" + secret,
                             "//etc/passwd", "//proc/self/environ", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt"}) {
        EXPECT_EQ(body(evil), std::nullopt) << evil;
        EXPECT_EQ(body(evil, true), std::nullopt) << evil;
    }
}
