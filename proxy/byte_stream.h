// ByteStream: one interface over plain TCP and TLS-over-TCP (tls_byte_stream.h), so the HTTP
// logic is written once.
// Every operation reports through an error_code; none throws.
#pragma once

#include <memory>
#include <string>

#include "proxy/asio_config.h"

namespace nixjail::proxy {

using asio::ip::tcp;

class ByteStream {
  public:
    virtual ~ByteStream() = default;
    virtual asio::awaitable<std::size_t> readSome(asio::mutable_buffer buf,
                                                  std::error_code& ec) = 0;
    virtual asio::awaitable<void> writeAll(asio::const_buffer buf, std::error_code& ec) = 0;
    // Aborts pending reads and writes (they complete with operation_aborted); the stream stays
    // open.
    virtual void cancel() = 0;
    virtual void close() = 0;
    // Half-close: tell the peer no more data comes (TCP FIN; a no-op for TLS, which has no
    // half-close that clients honour).
    virtual void shutdownSend() = 0;
    virtual bool isOpen() const = 0;
    virtual bool isTls() const = 0;
};

template <class S>
class AsioByteStream final : public ByteStream {
  public:
    explicit AsioByteStream(S stream) : stream_(std::move(stream)) {}

    asio::awaitable<std::size_t> readSome(asio::mutable_buffer buf, std::error_code& ec) override {
        co_return co_await stream_.async_read_some(buf,
                                                   asio::redirect_error(asio::use_awaitable, ec));
    }
    asio::awaitable<void> writeAll(asio::const_buffer buf, std::error_code& ec) override {
        co_await asio::async_write(stream_, buf, asio::redirect_error(asio::use_awaitable, ec));
    }
    void cancel() override {
        std::error_code ignored;  // cancelling a closed socket is harmless
        socket().cancel(ignored);
    }
    void close() override {
        std::error_code ignored;  // closing twice or after a reset is harmless
        socket().shutdown(tcp::socket::shutdown_both, ignored);
        socket().close(ignored);
    }
    void shutdownSend() override {
        std::error_code ignored;  // the peer may be gone already
        if constexpr (std::is_same_v<S, tcp::socket>)
            stream_.shutdown(tcp::socket::shutdown_send, ignored);
    }
    bool isOpen() const override { return socket().is_open(); }
    bool isTls() const override { return !std::is_same_v<S, tcp::socket>; }

    S& stream() { return stream_; }

  private:
    tcp::socket& socket() {
        if constexpr (std::is_same_v<S, tcp::socket>)
            return stream_;
        else
            return stream_.next_layer();
    }
    const tcp::socket& socket() const {
        if constexpr (std::is_same_v<S, tcp::socket>)
            return stream_;
        else
            return stream_.next_layer();
    }
    S stream_;
};

using TcpByteStream = AsioByteStream<tcp::socket>;

// A stream plus the bytes read from it but not yet consumed (the start of a body or next message).
struct BufferedStream {
    std::unique_ptr<ByteStream> stream;
    std::string pending;
    // Where reads land (uninitialised, made on first use): body bytes go on from here without
    // passing through `pending`, and a read costs no zero-filling of a 64 KiB string.
    std::unique_ptr<char[]> chunk;
};

}  // namespace nixjail::proxy
