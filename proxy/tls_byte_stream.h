// TlsByteStream: TLS over a TCP socket, with OpenSSL reading and writing the socket itself.
// asio::ssl::stream puts a BIO pair between OpenSSL and the socket, which copies every byte twice
// more, moves one TLS record per socket call and frees OpenSSL's buffers after each record
// (SSL_MODE_RELEASE_BUFFERS); for a proxy that decrypts and re-encrypts every byte that was most
// of its cost beyond the cipher. Here the socket is non-blocking and a coroutine waits for
// readiness only when OpenSSL asks for it. Certificate checks are configured on the SSL_CTX and
// on native() exactly as with asio's stream. OpenSSL writes with write(2), so the thread doing the
// I/O must have SIGPIPE blocked or ignored (ProxyService's io thread blocks it).
#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "proxy/byte_stream.h"

namespace nixjail::proxy {

class TlsByteStream final : public ByteStream {
  public:
    enum class Role { kClient, kServer };

    // Takes a connected socket; `context` must outlive the stream. Throws SslError.
    TlsByteStream(tcp::socket socket, asio::ssl::context& context);

    SSL* native() { return ssl_.get(); }
    asio::awaitable<void> handshake(Role role, std::error_code& ec);

    // Returns the bytes of as many records as OpenSSL already holds, up to buf's size, so that
    // one call usually yields more than one 16 KiB record.
    asio::awaitable<std::size_t> readSome(asio::mutable_buffer buf, std::error_code& ec) override;
    asio::awaitable<void> writeAll(asio::const_buffer buf, std::error_code& ec) override;
    void cancel() override;
    void close() override;
    void shutdownSend() override {}  // TLS has no half-close that clients honour
    bool isOpen() const override { return socket_.is_open(); }
    bool isTls() const override { return true; }

  private:
    // After an SSL call returned `result` (with errno then `saved_errno`): waits for the socket
    // when OpenSSL wants I/O (returns true: call again), or sets `ec` to what the failure means,
    // as asio's stream reports it (operation_aborted for a socket closed during the wait).
    asio::awaitable<bool> waitOrFail(int result, int saved_errno, std::error_code& ec);

    tcp::socket socket_;
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl_;
    std::error_code deferred_;  // a read failure met after returning data, reported next time
};

}  // namespace nixjail::proxy
