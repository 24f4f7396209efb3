// The expression lexer; see lexer.h.
#include "runner/expr/lexer.h"

#include <cmath>

#include "runner/expr/value_ops.h"

namespace nixjail::runner::expr {
namespace {

bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool isBoundary(char c) {
    switch (c) {
        case '(':
        case '[':
        case ')':
        case ']':
        case ',':
        case '.':
        case '!':
        case '>':
        case '<':
        case '=':
        case '&':
        case '|':
            return true;
        default:
            return isSpace(c);
    }
}

bool isLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

class Lexer {
  public:
    explicit Lexer(std::string_view s) : s_(s) {}

    std::vector<Token> run() {
        std::vector<Token> out;
        while (true) {
            while (i_ < s_.size() && isSpace(s_[i_])) ++i_;
            if (i_ >= s_.size()) break;
            Token t = next();
            last_ = t.kind;
            out.push_back(std::move(t));
            if (out.back().kind == TokenKind::Unexpected) return out;
        }
        Token end;
        end.kind = TokenKind::End;
        end.pos = s_.size();
        out.push_back(end);
        return out;
    }

  private:
    Token make(TokenKind kind, size_t start, size_t len) {
        Token t;
        t.kind = kind;
        t.pos = start;
        t.raw = std::string(s_.substr(start, len));
        return t;
    }

    // A "." starts a number only where an operand may begin.
    bool operandExpected() const {
        switch (last_) {
            case TokenKind::End:  // nothing yet
            case TokenKind::Comma:
            case TokenKind::LParen:
            case TokenKind::LBracket:
            case TokenKind::Operator:
                return true;
            default:
                return false;
        }
    }

    Token next() {
        char c = s_[i_];
        switch (c) {
            case '(':
                return make(TokenKind::LParen, i_++, 1);
            case ')':
                return make(TokenKind::RParen, i_++, 1);
            case '[':
                return make(TokenKind::LBracket, i_++, 1);
            case ']':
                return make(TokenKind::RBracket, i_++, 1);
            case ',':
                return make(TokenKind::Comma, i_++, 1);
            case '*':
                return make(TokenKind::Star, i_++, 1);
            case '\'':
                return readString();
            case '!':
            case '>':
            case '<':
            case '=':
            case '&':
            case '|':
                return readOperator();
            default:
                break;
        }
        if (c == '.') {
            if (operandExpected()) return readNumber();
            return make(TokenKind::Dot, i_++, 1);
        }
        if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return readNumber();
        return readKeyword();
    }

    Token readNumber() {
        size_t start = i_;
        do {
            ++i_;
        } while (i_ < s_.size() && (!isBoundary(s_[i_]) || s_[i_] == '.'));
        Token t = make(TokenKind::Number, start, i_ - start);
        t.number = parseNumber(t.raw);
        if (std::isnan(t.number)) t.kind = TokenKind::Unexpected;
        return t;
    }

    Token readKeyword() {
        size_t start = i_++;
        while (i_ < s_.size() && !isBoundary(s_[i_])) ++i_;
        Token t = make(TokenKind::Keyword, start, i_ - start);
        if (!isLegalKeyword(t.raw)) {
            t.kind = TokenKind::Unexpected;
            return t;
        }
        if (last_ != TokenKind::Dot) {
            if (t.raw == "null") {
                t.kind = TokenKind::Null;
            } else if (t.raw == "true") {
                t.kind = TokenKind::True;
            } else if (t.raw == "false") {
                t.kind = TokenKind::False;
            } else if (t.raw == "NaN") {
                t.kind = TokenKind::Number;
                t.number = std::nan("");
            } else if (t.raw == "Infinity") {
                t.kind = TokenKind::Number;
                t.number = INFINITY;
            }
        }
        size_t j = i_;
        while (j < s_.size() && isSpace(s_[j])) ++j;
        t.followedByParen = j < s_.size() && s_[j] == '(';
        return t;
    }

    Token readString() {
        size_t start = i_++;
        std::string value;
        while (i_ < s_.size()) {
            char c = s_[i_++];
            if (c == '\'') {
                if (i_ < s_.size() && s_[i_] == '\'') {
                    ++i_;  // '' is an escaped quote
                } else {
                    Token t = make(TokenKind::String, start, i_ - start);
                    t.text = std::move(value);
                    return t;
                }
            }
            value += c;
        }
        return make(TokenKind::Unexpected, start, i_ - start);
    }

    Token readOperator() {
        size_t start = i_;
        if (i_ + 1 < s_.size()) {
            std::string_view two = s_.substr(i_, 2);
            if (two == "!=" || two == ">=" || two == "<=" || two == "==" || two == "&&" ||
                two == "||") {
                i_ += 2;
                return make(TokenKind::Operator, start, 2);
            }
        }
        char c = s_[i_];
        if (c == '!' || c == '>' || c == '<') return make(TokenKind::Operator, i_++, 1);
        ++i_;
        while (i_ < s_.size() && !isBoundary(s_[i_])) ++i_;
        return make(TokenKind::Unexpected, start, i_ - start);
    }

    std::string_view s_;
    size_t i_ = 0;
    TokenKind last_ = TokenKind::End;
};

}  // namespace

bool isLegalKeyword(std::string_view s) {
    if (s.empty() || !(isLetter(s[0]) || s[0] == '_')) return false;
    for (char c : s.substr(1)) {
        if (!(isLetter(c) || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    }
    return true;
}

std::vector<Token> tokenize(std::string_view expression) { return Lexer(expression).run(); }

}  // namespace nixjail::runner::expr
