#include "server/toml_guard.hpp"

#include <vector>

namespace snorky::server {

namespace {

bool nonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Walks the text as toml++ tokenises it, far enough to know whether a byte
// lies inside a string or a comment. Where toml++ would stop at a syntax
// error, the walk may go on differently: it only ever refuses more.
//
// What matters is where a quote opens a string. toml++ reads a bare value
// (number, date, boolean, or garbage) up to a value terminator (blank, ',',
// ']', '}', '#'), asking the faulty question about every character, quotes
// included: inside such a token a quote opens nothing. Elsewhere a quote
// either opens a string or is a syntax error at which toml++ stops.
class Scanner {
public:
    explicit Scanner(std::string_view text) : text_(text) {
        if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // a leading BOM is allowed
    }

    std::optional<TomlGuardError> run() {
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (inValueToken_ && (blank(c) || c == ',' || c == ']' || c == '}' || c == '#')) inValueToken_ = false;
            if (nonAscii(c))
                return fail("a non-ASCII character outside a string or comment (TOML allows one only in a quoted "
                            "string or a comment)");
            if (c == '#') {
                skipComment();
            } else if (inValueToken_) {
                step();
            } else if (c == '"' || c == '\'') {
                if (auto error = string(c)) return error;
            } else {
                structure(c);
                step();
            }
        }
        return std::nullopt;
    }

private:
    // Brackets and the key/value position, as far as they decide whether the
    // next quote opens a string.
    void structure(char c) {
        char top = nesting_.empty() ? '\0' : nesting_.back();
        if (c == '\n' && nesting_.empty()) {
            inKey_ = true;
        } else if (c == '[' || c == '{') {
            nesting_.push_back(c);
            inKey_ = c == '{' || (inKey_ && top == '\0') || top == 'h';
            if (c == '[' && inKey_) nesting_.back() = 'h';  // a [table] header: keys inside
        } else if (c == ']' || c == '}') {
            if (!nesting_.empty()) nesting_.pop_back();
            inKey_ = nesting_.empty() ? inKey_ : false;
        } else if (c == '=') {
            inKey_ = false;
        } else if (c == ',') {
            inKey_ = top == '{';
        } else if (!inKey_ && !blank(c)) {
            inValueToken_ = true;
        }
    }

    bool starts(std::string_view s) const { return text_.substr(pos_, s.size()) == s; }
    void step() {
        if (text_[pos_] == '\n') ++line_;
        ++pos_;
    }
    std::optional<TomlGuardError> fail(std::string message) const { return TomlGuardError{line_, std::move(message)}; }

    void skipComment() {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    }
    std::optional<TomlGuardError> string(char quote) {
        if (starts(std::string(3, quote))) {
            if (quote == '\'') return multiLineLiteral(), std::nullopt;
            return multiLineBasic();
        }
        singleLine(quote);
        return std::nullopt;
    }
    // A single-line string ends at its quote or, unterminated, at the line's
    // end (toml++ reports that one itself). Only basic strings have escapes.
    void singleLine(char quote) {
        ++pos_;
        while (pos_ < text_.size() && text_[pos_] != quote && text_[pos_] != '\n')
            pos_ += quote == '"' && text_[pos_] == '\\' ? 2 : 1;
        if (pos_ < text_.size() && text_[pos_] == quote) ++pos_;
    }
    // Up to two more quotes may end a multi-line string ("""a"""" is a").
    void closeMultiLine(char quote) {
        pos_ += 3;
        for (int i = 0; i < 2 && pos_ < text_.size() && text_[pos_] == quote; ++i) ++pos_;
    }
    void multiLineLiteral() {
        pos_ += 3;
        while (pos_ < text_.size() && !starts("'''")) step();
        closeMultiLine('\'');
    }
    // toml++ asks the faulty whitespace question about the character after
    // each backslash and, after a line-ending backslash, about the first one
    // that follows the skipped blanks: both must be ASCII.
    std::optional<TomlGuardError> multiLineBasic() {
        pos_ += 3;
        while (pos_ < text_.size() && !starts(R"(""")")) {
            if (text_[pos_] != '\\') {
                step();
                continue;
            }
            ++pos_;
            if (pos_ < text_.size() && nonAscii(text_[pos_]))
                return fail("a backslash followed by a non-ASCII character (not a TOML escape)");
            if (pos_ >= text_.size() || !blank(text_[pos_])) {
                if (pos_ < text_.size()) step();
                continue;
            }
            while (pos_ < text_.size() && blank(text_[pos_])) step();
            if (pos_ < text_.size() && nonAscii(text_[pos_]))
                return fail("a non-ASCII character right after a line-ending backslash (put an ASCII character "
                            "or an escape such as \\u00e9 first)");
        }
        closeMultiLine('"');
        return std::nullopt;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
    std::vector<char> nesting_;  // '[' array, 'h' table header, '{' inline table
    bool inKey_ = true;          // a key comes next (line start, header, inline table)
    bool inValueToken_ = false;  // inside a bare value: quotes open nothing
};

}  // namespace

std::optional<TomlGuardError> findUnsafeToml(std::string_view text) { return Scanner(text).run(); }

}  // namespace snorky::server
