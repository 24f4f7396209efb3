// Test support: every IPv4 address of this host (loopback included), for tests that try to reach
// a host service from inside a jail or through a job's proxy by each address a job could compute.
#pragma once

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <string>
#include <vector>

namespace nixjail::tests {

inline std::vector<std::string> hostIPv4Addresses() {
    std::vector<std::string> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (auto* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        char buf[INET_ADDRSTRLEN];
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
        out.push_back(buf);
    }
    ::freeifaddrs(list);
    return out;
}

}  // namespace nixjail::tests
