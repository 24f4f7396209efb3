#include "proxy/http_parser.h"

#include <gtest/gtest.h>

namespace nixjail::proxy::http {
namespace {

TEST(HttpHead, ParsesAbsoluteFormRequest) {
    auto req = parseRequestHead(
        "GET http://a.test:8080/x?y=1 HTTP/1.1\r\nHost: a.test\r\nX-A:  v \r\n\r\n");
    ASSERT_TRUE(req) << req.error();
    EXPECT_EQ(req->method, "GET");
    EXPECT_EQ(req->target, "http://a.test:8080/x?y=1");
    ASSERT_EQ(req->headers.size(), 2u);
    EXPECT_EQ(req->headers[1].value, "v");
    auto t = parseAbsoluteTarget(req->target);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->authority.host, "a.test");
    EXPECT_EQ(t->authority.port, 8080);
    EXPECT_EQ(t->path, "/x?y=1");
    EXPECT_EQ(pathWithoutQuery(t->path), "/x");
}

TEST(HttpHead, RoundTripsThroughSerialize) {
    std::string text = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
    auto req = parseRequestHead(text);
    ASSERT_TRUE(req);
    EXPECT_EQ(serializeRequestHead(*req), text);
    std::string res_text = "HTTP/1.1 404 Not Found\r\nA: b\r\n\r\n";
    auto res = parseResponseHead(res_text);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404);
    EXPECT_EQ(serializeResponseHead(*res), res_text);
}

TEST(HttpHead, RejectsMalformedHeads) {
    EXPECT_FALSE(parseRequestHead("GET / HTTP/1.1\r\n folded: x\r\n\r\n"));
    EXPECT_FALSE(parseRequestHead("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"));
    EXPECT_FALSE(parseRequestHead("GET / HTTP/1.1\nHost: x\r\n\r\n"));
    EXPECT_FALSE(parseRequestHead("GET  / HTTP/1.1\r\n\r\n"));
    EXPECT_FALSE(parseRequestHead("GET / HTTP/2.0\r\n\r\n"));
    EXPECT_FALSE(parseRequestHead("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n"));
    EXPECT_FALSE(parseResponseHead("HTTP/1.1 20 OK\r\n\r\n"));
    EXPECT_FALSE(parseResponseHead("HTTP/1.1 abc OK\r\n\r\n"));
}

TEST(HttpHead, StatusLineWithoutReasonIsAccepted) {
    auto res = parseResponseHead("HTTP/1.1 204\r\n\r\n");
    ASSERT_TRUE(res) << res.error();
    EXPECT_EQ(res->status, 204);
}

TEST(HttpFraming, RefusesSmugglingShapes) {
    auto both = parseRequestHead(
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    ASSERT_TRUE(both);
    EXPECT_FALSE(requestBodyFraming(*both));
    auto conflicting =
        parseRequestHead("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n");
    EXPECT_FALSE(requestBodyFraming(*conflicting));
    auto gzip = parseRequestHead("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n");
    EXPECT_FALSE(requestBodyFraming(*gzip));
    auto negative = parseRequestHead("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n");
    EXPECT_FALSE(requestBodyFraming(*negative));
}

TEST(HttpFraming, ResponseWithoutLengthReadsUntilClose) {
    auto res = parseResponseHead("HTTP/1.1 200 OK\r\n\r\n");
    EXPECT_EQ(responseBodyFraming(*res, "GET")->kind, BodyFraming::Kind::kUntilClose);
    EXPECT_EQ(responseBodyFraming(*res, "HEAD")->kind, BodyFraming::Kind::kNone);
    auto nc = parseResponseHead("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
    EXPECT_EQ(responseBodyFraming(*nc, "GET")->kind, BodyFraming::Kind::kNone);
}

TEST(BodyTracker, ContentLengthStopsAtTheEnd) {
    BodyTracker t({BodyFraming::Kind::kLength, 5});
    EXPECT_EQ(t.consume("abc"), 3u);
    EXPECT_FALSE(t.done());
    EXPECT_EQ(t.consume("deNEXT"), 2u);
    EXPECT_TRUE(t.done());
}

TEST(BodyTracker, ChunkedAcrossArbitrarySplits) {
    std::string body =
        "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n";
    for (std::size_t split = 0; split <= body.size(); ++split) {
        BodyTracker t({BodyFraming::Kind::kChunked, 0});
        std::string data = body + "GET";
        std::size_t used = t.consume(std::string_view(data).substr(0, split));
        EXPECT_EQ(used, split) << split;
        used += t.consume(std::string_view(data).substr(split));
        EXPECT_TRUE(t.done()) << split;
        EXPECT_EQ(used, body.size()) << split;
    }
}

TEST(BodyTracker, ChunkedRejectsGarbage) {
    BodyTracker bad_size({BodyFraming::Kind::kChunked, 0});
    bad_size.consume("zz\r\n");
    EXPECT_TRUE(bad_size.failed());
    BodyTracker missing_crlf({BodyFraming::Kind::kChunked, 0});
    missing_crlf.consume("1\r\nab");
    EXPECT_TRUE(missing_crlf.failed());
    BodyTracker huge({BodyFraming::Kind::kChunked, 0});
    huge.consume("ffffffffffffffffff\r\n");
    EXPECT_TRUE(huge.failed());
}

TEST(Authority, ParsesHostsAndPorts) {
    EXPECT_EQ(parseAuthority("Example.COM:443", 0)->host, "example.com");
    EXPECT_EQ(parseAuthority("[::1]:8443", 0)->host, "::1");
    EXPECT_EQ(parseAuthority("[::1]:8443", 0)->port, 8443);
    EXPECT_EQ(parseAuthority("h", 80)->port, 80);
    EXPECT_FALSE(parseAuthority("h", 0));
    EXPECT_FALSE(parseAuthority("h:99999", 0));
    EXPECT_FALSE(parseAuthority("h/x:1", 0));
    EXPECT_FALSE(parseAbsoluteTarget("http://user:pw@h/"));
    EXPECT_FALSE(parseAbsoluteTarget("ftp://h/"));
    EXPECT_EQ(parseAbsoluteTarget("http://h")->path, "/");
}

TEST(HeaderTokens, FindsTokensInLists) {
    Headers h{{"Connection", "keep-alive, Upgrade"}};
    EXPECT_TRUE(headerHasToken(h, "connection", "upgrade"));
    EXPECT_FALSE(headerHasToken(h, "connection", "close"));
}

TEST(NormalizePath, ResolvesWhatServersWouldResolve) {
    EXPECT_EQ(*normalizePath("/a/b"), "/a/b");
    EXPECT_EQ(*normalizePath("/%61dmin/x"), "/admin/x");
    EXPECT_EQ(*normalizePath("/admin%2Fx"), "/admin/x");
    EXPECT_EQ(*normalizePath("/x/../admin/./y"), "/admin/y");
    EXPECT_EQ(*normalizePath("//admin///y/"), "/admin/y/");
    EXPECT_EQ(*normalizePath("/../../etc"), "/etc");
    EXPECT_EQ(*normalizePath("/a/.."), "/");
    EXPECT_EQ(*normalizePath("/a/b/.."), "/a/");
    EXPECT_EQ(*normalizePath("/"), "/");
    EXPECT_FALSE(normalizePath("/%2"));
    EXPECT_FALSE(normalizePath("/%zz"));
    EXPECT_FALSE(normalizePath("/a%00b"));
    EXPECT_FALSE(normalizePath("a"));
}

}  // namespace
}  // namespace nixjail::proxy::http
