// libFuzzer target for the proxy's HTTP/1.1 parser (proxy/http_parser.h). The first byte picks a
// split point; the rest is parsed as a request head, a response head, chunked and length bodies
// (fed in two pieces), an authority, an absolute URL and a path. Invariants checked: a parsed head
// re-serialises to something that parses to the same head; body trackers never consume more than
// they are given and never go past done; normalised paths are stable and start with '/'.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/http_parser.h"

namespace {

namespace http = nixjail::proxy::http;

void check(bool ok) {
    if (!ok) std::abort();
}

bool sameHeaders(const http::Headers& a, const http::Headers& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
    }
    return true;
}

void fuzzHeads(std::string_view data) {
    auto end = http::findHeadEnd(data);
    std::string_view head = end ? data.substr(0, *end) : data;
    if (auto req = http::parseRequestHead(head)) {
        auto again = http::parseRequestHead(http::serializeRequestHead(*req));
        check(again.has_value() && again->method == req->method && again->target == req->target &&
              again->version == req->version && sameHeaders(again->headers, req->headers));
        (void)http::requestBodyFraming(*req);
        (void)http::parseAbsoluteTarget(req->target);
    }
    if (auto res = http::parseResponseHead(head)) {
        auto again = http::parseResponseHead(http::serializeResponseHead(*res));
        check(again.has_value() && again->status == res->status &&
              sameHeaders(again->headers, res->headers));
        (void)http::responseBodyFraming(*res, "GET");
        (void)http::responseBodyFraming(*res, "HEAD");
    }
}

void fuzzBody(std::string_view data, std::size_t split, http::BodyFraming framing) {
    http::BodyTracker t(framing);
    split = std::min(split, data.size());
    std::size_t used = t.consume(data.substr(0, split));
    check(used <= split);
    if (t.done() || t.failed()) return;
    check(used == split);  // not done and not failed: everything given was body
    std::size_t more = t.consume(data.substr(split));
    check(more <= data.size() - split);
    if (t.done())
        check(t.consume(data) == 0 || framing.kind == http::BodyFraming::Kind::kUntilClose);
}

void fuzzPath(std::string_view data) {
    auto n = http::normalizePath(data);
    if (!n) return;
    check(!n->empty() && n->front() == '/');
    check(n->find("//") == std::string::npos);
    // Decoding again may change it only through further %XX escapes; without '%' it is stable.
    if (n->find('%') == std::string::npos) {
        auto again = http::normalizePath(*n);
        check(again.has_value() && *again == *n);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0) return 0;
    std::size_t split = bytes[0];
    std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
    fuzzHeads(data);
    fuzzBody(data, split, {http::BodyFraming::Kind::kChunked, 0});
    fuzzBody(data, split, {http::BodyFraming::Kind::kLength, split * 3});
    (void)http::parseAuthority(data, 443);
    (void)http::parseAbsoluteTarget(data);
    fuzzPath(data);
    return 0;
}
