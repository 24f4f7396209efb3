// Metrics text and the /metrics endpoint, fetched over a real TCP connection.
#include "runner/daemon/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runner/base/error.h"
#include "runner/base/unique_fd.h"
#include "runner/daemon/metrics_server.h"

namespace nixjail::runner::daemon {
namespace {

std::string httpGet(int port, const std::string& path) {
    base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw base::SysError("connect");
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    EXPECT_EQ(::write(fd.get(), req.data(), req.size()), static_cast<ssize_t>(req.size()));
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<size_t>(n));
    return out;
}

TEST(Metrics, RendersCountersGaugesAndHistograms) {
    Metrics m;
    m.jobStarted();
    m.jobStarted();
    m.jobFinished("success", 3.0);
    m.phaseFinished("execution", 0.2);
    m.cacheResult("root", true);
    m.cacheResult("workspace", false);
    m.fetchError();
    const auto text = m.render();
    EXPECT_NE(text.find("nixjail_jobs_total{status=\"success\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("nixjail_jobs_total{status=\"failure\"} 0\n"), std::string::npos);
    EXPECT_NE(text.find("nixjail_active_jobs 1\n"), std::string::npos);
    EXPECT_NE(text.find("nixjail_job_duration_seconds_bucket{le=\"5\"} 1\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("nixjail_job_duration_seconds_bucket{le=\"1\"} 0\n"), std::string::npos)
        << text;
    EXPECT_NE(
        text.find("nixjail_phase_duration_seconds_bucket{phase=\"execution\",le=\"0.25\"} 1\n"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("nixjail_phase_duration_seconds_count{phase=\"execution\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("nixjail_cache_hits_total{cache_type=\"root\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("nixjail_cache_misses_total{cache_type=\"workspace\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("nixjail_fetch_errors_total 1\n"), std::string::npos);
    EXPECT_NE(text.find("# TYPE nixjail_job_duration_seconds histogram\n"), std::string::npos);
}

TEST(MetricsServer, ServesMetricsOverHttp) {
    Metrics m;
    m.jobStarted();
    MetricsServer server("127.0.0.1:0", m);
    ASSERT_GT(server.port(), 0);
    auto reply = httpGet(server.port(), "/metrics");
    EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
    EXPECT_NE(reply.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
    EXPECT_NE(reply.find("nixjail_active_jobs 1\n"), std::string::npos) << reply;
    auto missing = httpGet(server.port(), "/other");
    EXPECT_EQ(missing.rfind("HTTP/1.1 404", 0), 0u) << missing;
}

TEST(MetricsServer, AnAddressInUseIsAClearError) {
    Metrics m;
    MetricsServer first("127.0.0.1:0", m);
    try {
        MetricsServer second("127.0.0.1:" + std::to_string(first.port()), m);
        FAIL();
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot serve metrics on"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(MetricsServer("nonsense", m), base::Error);
}

}  // namespace
}  // namespace nixjail::runner::daemon
