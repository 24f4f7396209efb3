// Splits an expression into tokens, deciding "." (dereference vs. number) and keyword roles from
// the previous token the way the Actions runner's lexer does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nixjail::runner::expr {

enum class TokenKind {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Star,
    String,  // text holds the unescaped value
    Number,  // number holds the value
    Null,
    True,
    False,
    Keyword,   // a function name, named-value or property name; the parser decides which
    Operator,  // ! != == < <= > >= && ||
    Unexpected,
    End,
};

struct Token {
    TokenKind kind = TokenKind::End;
    std::string raw;   // the token as written
    std::string text;  // unescaped string value for String
    double number = 0;
    size_t pos = 0;
    bool followedByParen = false;  // Keyword: next non-space character is '('
};

// Tokenizes the whole expression; the last token is End (pos = expression size). Stops after the
// first Unexpected token.
std::vector<Token> tokenize(std::string_view expression);

// Actions keywords: a letter or '_' followed by letters, digits, '_' or '-'.
bool isLegalKeyword(std::string_view s);

}  // namespace nixjail::runner::expr
