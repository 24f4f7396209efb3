// proxy_setup_bench: what a job's proxy costs to set up and tear down (startProxy in the job's
// network namespace, then stop), against the namespace it listens in (a bare network namespace
// through unshare(2), the anchor) — interleaved, so all variants see the same machine state:
//   (a) anchor: create a network namespace and close it;
//   (b) a proxy with its own upstream trust, the system CA bundle loaded as its first upstream TLS
//       connection loads it (the bundle loads lazily), as each job's proxy did before the trust
//       was shared;
//   (c) a proxy given the process's shared trust (proxy::loadUpstreamTrust, loaded once), as jobs
//       get it from the runner now.
// Needs root for the namespace; prints why and exits 0 otherwise.
// Usage: proxy_setup_bench [runs=200]
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench/sample_stats.h"
#include "proxy/proxy.h"
#include "proxy/upstream_trust.h"
#include "runner/base/error.h"
#include "runner/base/unique_fd.h"
#include "runner/network/anonymous_netns.h"

namespace {

namespace px = nixjail::proxy;

using Stats = nixjail::bench::SampleStats;
using nixjail::bench::timeMs;

Stats stats(std::vector<double> v) { return nixjail::bench::summarize(std::move(v)); }

void printRow(const char* name, const Stats& s, const Stats& anchor) {
    std::printf("%-52s %8.2f %8.2f %8.2f   x%.2f\n", name, s.min, s.median, s.max,
                s.median / anchor.median);
}

void startAndStop(int netns_fd, std::shared_ptr<const px::UpstreamTrust> trust) {
    px::ProxyConfig config;
    config.listen_netns_fd = netns_fd;
    config.upstream_trust = std::move(trust);
    px::ProxyHandle proxy = px::startProxy(std::move(config));
    proxy.stop();
}

int run(int runs) {
    if (::geteuid() != 0) {
        std::printf("proxy_setup_bench: SKIPPED (needs root for the network namespaces)\n");
        return 0;
    }
    auto shared = px::loadUpstreamTrust();
    std::vector<double> anchor, own, with_shared;
    for (int i = 0; i < runs; ++i) {
        anchor.push_back(timeMs([] { nixjail::runner::network::createAnonymousNetns(); }));
        auto netns = nixjail::runner::network::createAnonymousNetns();
        own.push_back(timeMs([&] {
            auto trust = px::loadUpstreamTrust();
            trust->context();  // what the proxy's first upstream TLS connection would load
            startAndStop(netns.get(), std::move(trust));
        }));
        with_shared.push_back(timeMs([&] { startAndStop(netns.get(), shared); }));
    }
    const Stats a = stats(anchor);
    std::printf("per-job proxy set-up + teardown (%d runs each, interleaved, ms)\n%-52s %8s %8s %8s   %s\n",
                runs, "", "min", "median", "max", "/ anchor (median)");
    printRow("(a) anchor: a network namespace (unshare), closed", a, a);
    printRow("(b) proxy loading its own upstream trust", stats(own), a);
    printRow("(c) proxy with the process's shared upstream trust", stats(with_shared), a);
    std::printf("ratio b/c %.1fx (median)\n", stats(own).median / stats(with_shared).median);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    try {
        int runs = argc > 1 ? std::atoi(argv[1]) : 200;
        if (argc > 2 || runs <= 0) {
            std::fprintf(stderr, "usage: proxy_setup_bench [runs=200]\n");
            return 2;
        }
        return run(runs);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "proxy_setup_bench: %s\n", e.what());
        return 1;
    }
}
