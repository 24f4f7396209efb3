// ProxyService: the listener, the io thread and the shared context behind a ProxyHandle.
#include "proxy/proxy.h"

#include <pthread.h>
#include <signal.h>

#include <optional>
#include <thread>

#include "proxy/client_session.h"
#include "proxy/credential_injector.h"
#include "proxy/listen_socket.h"
#include "proxy/proxy_context.h"

namespace nixjail::proxy {

class ProxyService {
  public:
    explicit ProxyService(ProxyConfig config)
        : context_(std::move(config)), io_(std::make_unique<asio::io_context>(1)) {
        acceptor_.emplace(*io_);
        const ProxyConfig& c = context_.config();
        base::UniqueFd fd = createListenSocket(c.listen_netns_fd, c.listen_address, c.listen_port);
        bool v6 = c.listen_address.find(':') != std::string::npos;
        acceptor_->assign(v6 ? tcp::v6() : tcp::v4(), fd.release());
        port_ = acceptor_->local_endpoint().port();
        address_ = c.listen_address;
        asio::co_spawn(*io_, accept(), asio::detached);
        thread_ = std::thread([this] { runIo(); });
    }
    ~ProxyService() { stop(); }

    void stop() {
        if (!io_) return;
        io_->stop();
        if (thread_.joinable()) thread_.join();
        std::error_code ignored;  // the listener goes away with the io_context either way
        acceptor_->close(ignored);
        acceptor_.reset();  // before its io_context
        // Destroying the io_context destroys every suspended connection, closing its sockets.
        io_.reset();
    }

    std::uint16_t port() const { return port_; }
    const std::string& address() const { return address_; }
    const std::string& caPem() const { return context_.authority().certificatePem(); }

  private:
    asio::awaitable<void> accept() {
        while (true) {
            std::error_code ec;
            tcp::socket socket =
                co_await acceptor_->async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
            if (ec) {
                // EMFILE and friends: drop this attempt, keep serving the others.
                context_.log().warn("proxy accept failed on port {}, continuing: {}", port_,
                                    ec.message());
                continue;
            }
            ClientSession::start(context_, std::move(socket));
        }
    }

    void runIo() {
        // OpenSSL writes TLS records with write(2), which raises SIGPIPE when the peer has gone;
        // blocked on this thread, that becomes EPIPE for the one connection instead.
        sigset_t pipe;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
        // Handlers report through error codes and sessions catch at their boundary, so run()
        // returns only when stopped; the catch is the last line of defence for this job's proxy.
        try {
            io_->run();
        } catch (const std::exception& e) {
            context_.log().error("proxy io loop on port {} died: {}", port_, e.what());
        }
    }

    ProxyContext context_;  // declared first: outlives the connections that reference it
    std::unique_ptr<asio::io_context> io_;
    std::optional<tcp::acceptor> acceptor_;
    std::uint16_t port_ = 0;
    std::string address_;
    std::thread thread_;
};

ProxyHandle::ProxyHandle(std::unique_ptr<ProxyService> service) : service_(std::move(service)) {}
ProxyHandle::ProxyHandle(ProxyHandle&&) noexcept = default;
ProxyHandle& ProxyHandle::operator=(ProxyHandle&&) noexcept = default;
ProxyHandle::~ProxyHandle() = default;

std::uint16_t ProxyHandle::port() const { return service_->port(); }
const std::string& ProxyHandle::address() const { return service_->address(); }
const std::string& ProxyHandle::caCertificatePem() const { return service_->caPem(); }
void ProxyHandle::stop() {
    if (service_) service_->stop();
}

ProxyHandle startProxy(ProxyConfig config) {
    for (const auto& c : config.credentials) validateCredential(c);
    return ProxyHandle(std::make_unique<ProxyService>(std::move(config)));
}

}  // namespace nixjail::proxy
