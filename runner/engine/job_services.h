// JobServices: a job's `services:` as jailed Nix services in the job's own network namespace.
// Each service gets a root of its own (only its packages' closure), a writable /state of its
// own, and a jail of the job's executor under the job's limits, joined to the job's network
// namespace: the job reaches it at 127.0.0.1 and by its id, and the service reaches nothing but
// what the job's proxy allows. Made when the job's network exists, before its first step;
// destroying it stops every service (SIGTERM, then the whole tree) and releases its jail and root.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "executor/executor.h"
#include "runner/actions/job_observer.h"
#include "runner/engine/job_root.h"
#include "runner/engine/service_images.h"

namespace nixjail::runner::engine {

// One entry of `services:`, its expressions evaluated.
struct ServiceRequest {
    std::string id;  // the key: also its host name in the job's network
    std::string image;
    std::map<std::string, std::string> env;
    std::vector<std::string> ports;    // as written: "5432", "8080:80", "6379/tcp"
    std::vector<std::string> options;  // `options:` split into words
};

// The docker --health-* options a service's `options:` may give, and the rest (ignored).
struct ServiceOptions {
    std::string health_cmd;
    std::optional<std::chrono::milliseconds> interval, timeout, start_period;
    std::optional<int> retries;
    std::vector<std::string> ignored;  // options that cannot apply to a jailed service
};
// Throws base::Error for a --health-* option without a value or with a bad duration.
ServiceOptions parseServiceOptions(const std::vector<std::string>& words);

// `options:` text split as a shell would (quotes, backslashes); throws base::Error on an open quote.
std::vector<std::string> splitOptions(const std::string& text);

// "8080:80" -> {8080, 80}; "5432" and "5432/tcp" -> {5432, 5432}; throws base::Error otherwise.
std::pair<std::uint16_t, std::uint16_t> parsePortMapping(const std::string& text);

struct ServicesSetup {
    executor::Executor* executor = nullptr;
    RootProvider roots;
    std::filesystem::path dir;  // <job dir>/services: each service's root and state
    int netns_fd = -1;          // the job's network namespace
    executor::Limits limits;
    executor::HardeningProfile profile = executor::HardeningProfile::kDefault;
    std::optional<executor::StepOwner> owner;  // who the services' state must belong to
    std::string job_id;
    // The job's proxy variables: a service reaches outside only through the proxy too.
    std::vector<std::pair<std::string, std::string>> proxy_env;
    std::vector<executor::BindMount> binds;  // read-only extras (the proxy's CA directory)
    std::chrono::milliseconds ready_timeout{std::chrono::minutes(2)};
    const ImageTable* images = nullptr;
    // A line for the job log (masked by the caller).
    std::function<void(actions::LineKind kind, const std::string& text)> note;
    std::stop_token cancel;  // the job's: waiting for readiness ends
};

class JobServices {
  public:
    // Starts every service, then waits until each is ready. Throws base::Error naming the
    // service, its image and the last lines of its log when one cannot start, exits or is not
    // ready in time; an unmapped image's error shows the configuration that would map it.
    JobServices(ServicesSetup setup, std::vector<ServiceRequest> requests);
    ~JobServices();
    JobServices(const JobServices&) = delete;
    JobServices& operator=(const JobServices&) = delete;

    // The `job.services` context: id -> {id, network, ports: {container port: host port}}.
    nlohmann::json context() const;
    // The services' ids, the names the job's /etc/hosts maps to 127.0.0.1.
    std::vector<std::string> names() const;
    // Per service, how long it took from its start to ready.
    std::vector<std::pair<std::string, std::chrono::milliseconds>> readyTimes() const;
    // Stops the services (their log since they were ready goes to the job log as a group each).
    void stop();

  private:
    struct Service;
    void start(Service& s);
    void waitUntilReady();
    bool checkOnce(Service& s);
    std::string failure(Service& s, const std::string& what) const;
    // `log`'s lines as a group of the job log under `title`.
    void logGroup(const std::string& title, const std::string& log) const;

    ServicesSetup setup_;
    std::vector<std::unique_ptr<Service>> services_;
    std::unique_ptr<class PortForwards> forwards_;
    bool stopped_ = false;
};

// Writes <root>/etc/hosts with localhost and `names` on 127.0.0.1 (by rename, never through a
// link; a root whose /etc is a link is left alone and false returned).
bool writeServiceHosts(const std::filesystem::path& root, const std::vector<std::string>& names);

}  // namespace nixjail::runner::engine
