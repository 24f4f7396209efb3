// TLS over a non-blocking socket: OpenSSL's own socket BIO, readiness waits through asio.
#include "proxy/tls_byte_stream.h"

#include <openssl/err.h>

#include <cerrno>

#include "proxy/ssl_error.h"

namespace nixjail::proxy {

namespace {

// OpenSSL reads ahead as much as the socket has, up to this much at a time: four full records,
// so that a bulk transfer costs one recv per four records rather than two per record.
constexpr std::size_t kReadBufferLength = 4 * (SSL3_RT_MAX_PLAIN_LENGTH + 512);

// One SSL call with OpenSSL's error queue emptied first and errno saved straight after it, both
// of which waitOrFail reads to tell what a failure was.
template <typename Call>
int sslCall(Call call, int& saved_errno) {
    ERR_clear_error();
    errno = 0;
    const int r = call();
    saved_errno = errno;
    return r;
}

}  // namespace

TlsByteStream::TlsByteStream(tcp::socket socket, asio::ssl::context& context)
    : socket_(std::move(socket)), ssl_(SSL_new(context.native_handle()), &SSL_free) {
    if (!ssl_) throw SslError("cannot create a TLS connection");
    // The fd stays owned by socket_ (SSL_set_fd does not close it); every call below checks that
    // socket_ is still open, so OpenSSL never touches a number the kernel has handed out again.
    if (SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1)
        throw SslError("cannot attach TLS to the socket");
    SSL_set_read_ahead(ssl_.get(), 1);
    SSL_set_default_read_buffer_len(ssl_.get(), kReadBufferLength);
    std::error_code ec;
    socket_.non_blocking(true, ec);
    if (ec) throw base::Error("cannot make the TLS socket non-blocking: " + ec.message());
}

asio::awaitable<bool> TlsByteStream::waitOrFail(int result, int saved_errno, std::error_code& ec) {
    int err = SSL_get_error(ssl_.get(), result);
    switch (err) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
            co_await socket_.async_wait(
                err == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write,
                asio::redirect_error(asio::use_awaitable, ec));
            if (!ec && !socket_.is_open()) ec = asio::error::operation_aborted;  // closed meanwhile
            co_return !ec;
        case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify
            ec = asio::error::eof;
            break;
        case SSL_ERROR_SYSCALL:
            if (unsigned long e = ERR_get_error())
                ec = std::error_code(static_cast<int>(e), asio::error::get_ssl_category());
            else if (saved_errno != 0 && saved_errno != EAGAIN)
                ec = std::error_code(saved_errno, asio::error::get_system_category());
            else
                ec = asio::ssl::error::stream_truncated;
            break;
        default: {
            unsigned long e = ERR_get_error();
            // The transport ended without close_notify: asio's stream calls this truncation too.
            if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
                ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
                ec = asio::ssl::error::stream_truncated;
            else
                ec = std::error_code(static_cast<int>(e), asio::error::get_ssl_category());
        }
    }
    ERR_clear_error();
    co_return false;
}

asio::awaitable<void> TlsByteStream::handshake(Role role, std::error_code& ec) {
    ec.clear();
    if (role == Role::kClient)
        SSL_set_connect_state(ssl_.get());
    else
        SSL_set_accept_state(ssl_.get());
    while (true) {
        if (!socket_.is_open()) {
            ec = asio::error::bad_descriptor;
            co_return;
        }
        int saved_errno = 0;
        const int r = sslCall([&] { return SSL_do_handshake(ssl_.get()); }, saved_errno);
        if (r == 1) co_return;
        if (!co_await waitOrFail(r, saved_errno, ec)) co_return;
    }
}

asio::awaitable<std::size_t> TlsByteStream::readSome(asio::mutable_buffer buf,
                                                     std::error_code& ec) {
    ec.clear();
    if (deferred_) {
        ec = std::exchange(deferred_, {});
        co_return 0;
    }
    auto* out = static_cast<char*>(buf.data());
    std::size_t total = 0;
    while (total < buf.size()) {
        if (!socket_.is_open()) {
            ec = asio::error::bad_descriptor;
            break;
        }
        std::size_t n = 0;
        int saved_errno = 0;
        const int r = sslCall([&] { return SSL_read_ex(ssl_.get(), out + total, buf.size() - total, &n); },
                              saved_errno);
        if (r == 1) {
            total += n;
            if (!SSL_has_pending(ssl_.get())) break;  // nothing more without waiting
            continue;
        }
        if (total > 0) {
            // Return what we have; a failure (not a mere "would block") comes with the next call.
            int err = SSL_get_error(ssl_.get(), r);
            if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
                co_await waitOrFail(r, saved_errno, deferred_);
            }
            ERR_clear_error();
            break;
        }
        if (!co_await waitOrFail(r, saved_errno, ec)) break;
    }
    co_return ec ? 0 : total;
}

asio::awaitable<void> TlsByteStream::writeAll(asio::const_buffer buf, std::error_code& ec) {
    ec.clear();
    auto* data = static_cast<const char*>(buf.data());
    std::size_t left = buf.size();
    while (left > 0) {
        if (!socket_.is_open()) {
            ec = asio::error::bad_descriptor;
            co_return;
        }
        std::size_t n = 0;
        int saved_errno = 0;
        // Without SSL_MODE_ENABLE_PARTIAL_WRITE this returns once all of it is sent; after a
        // would-block it is called again with the same buffer, as OpenSSL requires.
        const int r = sslCall([&] { return SSL_write_ex(ssl_.get(), data, left, &n); }, saved_errno);
        if (r == 1) {
            data += n;
            left -= n;
            continue;
        }
        if (!co_await waitOrFail(r, saved_errno, ec)) co_return;
    }
}

void TlsByteStream::cancel() {
    std::error_code ignored;  // cancelling a closed socket is harmless
    socket_.cancel(ignored);
}

void TlsByteStream::close() {
    std::error_code ignored;  // closing twice or after a reset is harmless
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

}  // namespace nixjail::proxy
