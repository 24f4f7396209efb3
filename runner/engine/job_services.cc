// Starting a job's services, waiting for them, and stopping them.
#include "runner/engine/job_services.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <sstream>
#include <thread>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/engine/port_forwards.h"

namespace nixjail::runner::engine {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using actions::LineKind;

constexpr std::size_t kLogCap = 1 << 20;  // a service's log kept in memory (its end)
constexpr int kTailLines = 20;

std::string tail(const std::string& log, int lines) {
    std::size_t pos = log.size();
    if (pos > 0 && log[pos - 1] == '\n') --pos;
    for (int n = 0; n < lines && pos > 0; ++n) {
        pos = log.rfind('\n', pos - 1);
        if (pos == std::string::npos) return log;
    }
    return log.substr(pos + (log[pos] == '\n' ? 1 : 0));
}

// Docker's durations: a number and a unit (ns, us, ms, s, m, h), possibly several ("1m30s").
milliseconds duration(const std::string& text, const std::string& option) {
    double total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t used = 0;
        double n = 0;
        // Digits and a point only: no sign, no hex, no inf.
        while (i + used < text.size() && (std::isdigit(static_cast<unsigned char>(text[i + used])) || text[i + used] == '.')) {
            ++used;
        }
        try {
            if (used > 0) n = std::stod(text.substr(i, used));
        } catch (const std::exception&) {
            used = 0;
        }
        i += used;
        std::size_t unitEnd = i;
        while (unitEnd < text.size() && std::isalpha(static_cast<unsigned char>(text[unitEnd]))) ++unitEnd;
        const std::string unit = text.substr(i, unitEnd - i);
        static const std::pair<const char*, double> kUnits[] = {{"ns", 1e-6}, {"us", 1e-3}, {"ms", 1}, {"s", 1e3},
                                                                {"m", 60e3},  {"h", 3600e3}};
        double scale = -1;
        for (const auto& [name, ms] : kUnits) {
            if (unit == name) scale = ms;
        }
        if (used == 0 || scale < 0) {
            throw base::Error("service option " + option + " '" + text + "' is not a duration (10s, 500ms, 1m30s)");
        }
        total += n * scale;
        i = unitEnd;
    }
    if (text.empty()) throw base::Error("service option " + option + " is empty");
    return milliseconds(static_cast<long long>(total));
}

std::string seconds(milliseconds d) {
    std::ostringstream s;
    s.precision(d.count() < 10000 ? 2 : 0);
    s << std::fixed << static_cast<double>(d.count()) / 1000.0 << " s";
    return s.str();
}

}  // namespace

std::vector<std::string> splitOptions(const std::string& text) {
    std::vector<std::string> out;
    std::string word;
    bool inWord = false;
    char quote = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quote) {
            if (c == quote) {
                quote = 0;
            } else if (c == '\\' && quote == '"' && i + 1 < text.size()) {
                word += text[++i];
            } else {
                word += c;
            }
        } else if (c == '\'' || c == '"') {
            quote = c;
            inWord = true;
        } else if (c == '\\' && i + 1 < text.size()) {
            word += text[++i];
            inWord = true;
        } else if (c == ' ' || c == '\t' || c == '\n') {
            if (inWord) out.push_back(std::move(word));
            word.clear();
            inWord = false;
        } else {
            word += c;
            inWord = true;
        }
    }
    if (quote) throw base::Error("service options '" + text + "' have an unclosed quote");
    if (inWord) out.push_back(std::move(word));
    return out;
}

ServiceOptions parseServiceOptions(const std::vector<std::string>& words) {
    ServiceOptions out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        std::string name = words[i], value;
        bool hasValue = false;
        if (const auto eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            hasValue = true;
        }
        const bool health = name.rfind("--health-", 0) == 0;
        if (health && name != "--no-healthcheck" && !hasValue) {
            if (i + 1 >= words.size()) throw base::Error("service option " + name + " needs a value");
            value = words[++i];
        }
        if (name == "--health-cmd") {
            out.health_cmd = value;
        } else if (name == "--health-interval") {
            out.interval = duration(value, name);
        } else if (name == "--health-timeout") {
            out.timeout = duration(value, name);
        } else if (name == "--health-start-period") {
            out.start_period = duration(value, name);
        } else if (name == "--health-retries") {
            std::size_t used = 0;
            int retries = -1;
            try {
                retries = std::stoi(value, &used);
            } catch (const std::exception&) {
            }
            if (retries < 0 || used != value.size()) {
                throw base::Error("service option --health-retries '" + value + "' is not a number of retries");
            }
            out.retries = retries;
        } else {
            // Docker options with a separate value (--name x, -e K=V, --network n, ...) are
            // reported as one.
            std::string shown = words[i];
            if (!hasValue && i + 1 < words.size() && words[i + 1].rfind("-", 0) != 0 && shown.rfind("-", 0) == 0) {
                shown += " " + words[++i];
            }
            out.ignored.push_back(shown);
        }
    }
    return out;
}

std::pair<std::uint16_t, std::uint16_t> parsePortMapping(const std::string& text) {
    std::string t = text;
    if (const auto slash = t.find('/'); slash != std::string::npos) {
        if (t.substr(slash + 1) != "tcp") {
            throw base::Error("service port '" + text + "': only tcp ports can be mapped");
        }
        t = t.substr(0, slash);
    }
    auto port = [&](const std::string& p) -> std::uint16_t {
        try {
            std::size_t used = 0;
            const unsigned long v = std::stoul(p, &used);
            if (used == p.size() && v > 0 && v <= 65535) return static_cast<std::uint16_t>(v);
        } catch (const std::exception&) {
        }
        throw base::Error("service port '" + text + "' is not PORT or HOST_PORT:CONTAINER_PORT");
    };
    const auto colon = t.rfind(':');
    if (colon == std::string::npos) {
        const auto p = port(t);
        return {p, p};
    }
    std::string host = t.substr(0, colon);
    if (const auto ip = host.rfind(':'); ip != std::string::npos) host = host.substr(ip + 1);  // 127.0.0.1:8080:80
    return {port(host), port(t.substr(colon + 1))};
}

bool writeServiceHosts(const fs::path& root, const std::vector<std::string>& names) {
    for (const fs::path& p : {root / "etc", root / "etc/hosts"}) {
        if (fs::is_symlink(fs::symlink_status(p))) return false;
    }
    std::string line = "127.0.0.1 localhost";
    for (const auto& n : names) line += " " + n;
    fs::create_directories(root / "etc");
    base::writeFileAtomic(root / "etc/hosts", line + "\n::1 localhost\n", 0644);
    return true;
}

struct JobServices::Service {
    ServiceRequest request;
    const ServiceDefinition* definition = nullptr;
    ServiceOptions options;
    std::vector<std::pair<std::uint16_t, std::uint16_t>> ports;
    fs::path dir;
    std::unique_ptr<JobRoot> root;
    std::unique_ptr<executor::Jail> jail;    // the service's process tree
    std::unique_ptr<executor::Jail> checks;  // its readiness checks, a pid namespace apart
    std::vector<std::string> env;
    std::stop_source stop;
    std::thread thread;
    mutable std::mutex mu;
    std::string log;
    std::size_t logged = 0;  // how much of `log` is already in the job log
    bool exited = false;
    executor::StepResult result;
    Clock::time_point started;
    std::optional<milliseconds> ready;
    std::string last_check;  // the last readiness check's command and output
};

JobServices::JobServices(ServicesSetup setup, std::vector<ServiceRequest> requests) : setup_(std::move(setup)) {
    std::vector<std::pair<std::uint16_t, std::uint16_t>> forwards;
    for (auto& r : requests) {
        auto s = std::make_unique<Service>();
        s->definition = findService(*setup_.images, r.image);
        if (!s->definition) {
            throw base::Error("service '" + r.id + "': no Nix definition for the image '" + r.image +
                              "' (this runner runs services from Nix packages, not containers); map it in the "
                              "runner's configuration (exec: --service-images FILE with the same keys):\n" +
                              serviceMappingSnippet(r.image));
        }
        s->options = parseServiceOptions(r.options);
        for (const auto& p : r.ports) {
            s->ports.push_back(parsePortMapping(p));
            if (s->ports.back().first != s->ports.back().second) forwards.push_back(s->ports.back());
        }
        if (!s->options.ignored.empty()) {
            std::string shown;
            for (const auto& o : s->options.ignored) shown += (shown.empty() ? "" : ", ") + o;
            setup_.note(LineKind::kWarning, "service '" + r.id + "': options that cannot apply to a jailed Nix "
                                            "service are ignored: " + shown);
        }
        s->request = std::move(r);
        services_.push_back(std::move(s));
    }
    try {
        for (auto& s : services_) start(*s);
        if (!forwards.empty()) forwards_ = std::make_unique<PortForwards>(setup_.netns_fd, forwards);
        waitUntilReady();
    } catch (...) {
        stop();
        throw;
    }
}

JobServices::~JobServices() { stop(); }

void JobServices::start(Service& s) {
    const auto& def = *s.definition;
    s.dir = setup_.dir / s.request.id;
    fs::create_directories(s.dir / "state");
    RootRequest request;
    request.packages = def.packages;
    for (const char* base : {"bash", "coreutils"}) {
        if (std::find(request.packages.begin(), request.packages.end(), base) == request.packages.end())
            request.packages.push_back(base);
    }
    try {
        s.root = setup_.roots(request, s.dir / "root");
    } catch (const base::Error& e) {
        throw base::Error("service '" + s.request.id + "' (" + s.request.image + "): its root from " +
                          def.origin + " packages: " + e.what());
    }
    std::vector<std::string> names;
    for (const auto& o : services_) names.push_back(o->request.id);
    if (!writeServiceHosts(s.root->root(), names)) {
        setup_.note(LineKind::kWarning, "service '" + s.request.id + "': its root's /etc is a link, so its "
                                        "/etc/hosts does not name the other services; use 127.0.0.1");
    }
    if (setup_.owner) {
        for (const fs::path& p : {s.dir, s.dir / "state"}) {
            if (::chown(p.c_str(), setup_.owner->uid, setup_.owner->gid) != 0) {
                throw base::SysError("handing '" + p.string() + "' to the service's user");
            }
        }
        ::chmod(s.dir.c_str(), 0711);
    }
    executor::JailSpec spec;
    spec.job_id = setup_.job_id + "-" + s.request.id;
    spec.root = s.root->root();
    spec.binds.push_back({s.dir / "state", "/state", true});
    spec.binds.insert(spec.binds.end(), setup_.binds.begin(), setup_.binds.end());
    spec.limits = setup_.limits;
    spec.profile = setup_.profile;
    spec.netns_fd = setup_.netns_fd;
    spec.hostname = s.request.id;
    s.jail = setup_.executor->prepare(spec);
    s.checks = setup_.executor->prepare(spec);

    std::map<std::string, std::string> env = def.env;
    for (const auto& [k, v] : s.request.env) env[k] = v;
    env["PATH"] = s.root->binPath();
    env["HOME"] = "/state";
    for (const auto& [k, v] : setup_.proxy_env) env.emplace(k, v);
    for (const auto& [k, v] : env) s.env.push_back(k + "=" + v);

    setup_.note(LineKind::kRunner, "Service '" + s.request.id + "': " + s.request.image + " from " + def.origin +
                                       " packages (" + s.root->source() + ")");
    s.started = Clock::now();
    s.thread = std::thread([this, &s] {
        executor::StepInvocation inv;
        inv.argv = {"bash", "-c", s.definition->start};
        inv.env = s.env;
        inv.cwd = "/state";
        inv.cancel = s.stop.get_token();
        inv.on_output = [&s](std::string_view chunk) {
            std::lock_guard lock(s.mu);
            s.log.append(chunk);
            if (s.log.size() > kLogCap) {
                const std::size_t cut = s.log.size() - kLogCap / 2;
                s.log.erase(0, cut);
                s.logged = s.logged > cut ? s.logged - cut : 0;
            }
        };
        executor::StepResult r;
        try {
            r = s.jail->run(inv);
        } catch (const std::exception& e) {
            r.setup_error = e.what();  // this thread must not throw: the waiting one reports it
        }
        std::lock_guard lock(s.mu);
        s.result = r;
        s.exited = true;
    });
}

bool JobServices::checkOnce(Service& s) {
    executor::StepInvocation inv;
    std::string cmd = s.options.health_cmd;
    if (cmd.empty()) cmd = s.definition->ready;
    if (cmd.empty()) {
        const std::uint16_t port = s.definition->ports.empty() ? s.ports.front().second : s.definition->ports.front();
        cmd = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port);
    }
    inv.argv = {"bash", "-c", cmd};
    inv.env = s.env;
    inv.cwd = "/state";
    inv.timeout = s.options.timeout.value_or(std::chrono::seconds(30));
    inv.cancel = setup_.cancel;
    std::string said;
    inv.on_output = [&said](std::string_view chunk) {
        if (said.size() < 4096) said.append(chunk);
    };
    const executor::StepResult result = s.checks->run(inv);
    if (!result.setup_error.empty()) {
        throw base::Error(failure(s, "could not be checked: its readiness check could not start in its jail: " +
                                         result.setup_error));
    }
    std::lock_guard lock(s.mu);
    s.last_check = "`" + cmd + "`" + (said.empty() ? " said nothing" : " said: " + tail(said, 3));
    return result.succeeded();
}

std::string JobServices::failure(Service& s, const std::string& what) const {
    std::string log, check;
    {
        std::lock_guard lock(s.mu);
        log = tail(s.log, kTailLines);
        check = s.last_check;
    }
    return "service '" + s.request.id + "' (" + s.request.image + ") " + what +
           (check.empty() ? "" : "; its last readiness check " + check) +
           (log.empty() ? "; it wrote nothing" : "; the last lines of its log:\n" + log);
}

void JobServices::waitUntilReady() {
    // Each service's own deadline; all are checked in turn, so each is ready as soon as it is.
    std::vector<Clock::time_point> deadlines;
    std::vector<milliseconds> limits;
    milliseconds pause{100};
    for (auto& s : services_) {
        milliseconds limit = setup_.ready_timeout;
        const auto& o = s->options;
        if (o.interval || o.retries || o.start_period) {
            const milliseconds asked = o.start_period.value_or(milliseconds(0)) +
                                       o.interval.value_or(std::chrono::seconds(30)) * o.retries.value_or(3);
            limit = std::max(limit, asked);
        }
        limits.push_back(limit);
        deadlines.push_back(s->started + limit);
    }
    for (std::size_t waiting = services_.size(); waiting > 0;) {
        for (std::size_t i = 0; i < services_.size(); ++i) {
            Service& s = *services_[i];
            if (s.ready) continue;
            if (setup_.cancel.stop_requested()) throw base::Error("the job was cancelled while its services started");
            std::optional<std::string> exited;
            {
                std::lock_guard lock(s.mu);
                if (s.exited) {
                    const auto& r = s.result;
                    exited = !r.setup_error.empty() ? "could not start: " + r.setup_error
                                                    : "exited with code " + std::to_string(r.exit_code) +
                                                          " before it was ready";
                }
            }
            if (exited) throw base::Error(failure(s, *exited));  // failure() takes s.mu itself
            if (!checkOnce(s)) {
                if (Clock::now() >= deadlines[i]) {
                    throw base::Error(failure(s, "was not ready after " + seconds(limits[i]) +
                                                     " (services.ready_timeout, or its --health-* options)"));
                }
                continue;
            }
            s.ready = std::chrono::duration_cast<milliseconds>(Clock::now() - s.started);
            --waiting;
            std::string log;
            {
                std::lock_guard lock(s.mu);
                log = s.log;
                s.logged = s.log.size();
            }
            logGroup("Service '" + s.request.id + "' (" + s.request.image + ") ready in " + seconds(*s.ready), log);
        }
        if (waiting > 0) std::this_thread::sleep_for(pause);
    }
}

void JobServices::logGroup(const std::string& title, const std::string& log) const {
    setup_.note(LineKind::kGroupStart, title);
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) setup_.note(LineKind::kOutput, line);
    setup_.note(LineKind::kGroupEnd, "");
}

void JobServices::stop() {
    if (stopped_) return;
    stopped_ = true;
    forwards_.reset();
    for (auto& s : services_) s->stop.request_stop();
    for (auto& s : services_) {
        if (s->thread.joinable()) s->thread.join();
        std::string rest;
        {
            std::lock_guard lock(s->mu);
            if (s->ready && s->logged < s->log.size()) rest = s->log.substr(s->logged);
        }
        if (!rest.empty()) {
            logGroup("Service '" + s->request.id + "': its log until it stopped", rest);
        }
        s->checks.reset();
        s->jail.reset();
        s->root.reset();
    }
}

nlohmann::json JobServices::context() const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& s : services_) {
        nlohmann::json ports = nlohmann::json::object();
        // A container port mapped twice is named by its first mapping.
        for (const auto& [host, container] : s->ports) ports.emplace(std::to_string(container), std::to_string(host));
        out[s->request.id] = {{"id", s->request.id}, {"network", "job"}, {"ports", ports}};
    }
    return out;
}

std::vector<std::string> JobServices::names() const {
    std::vector<std::string> out;
    for (const auto& s : services_) out.push_back(s->request.id);
    return out;
}

std::vector<std::pair<std::string, milliseconds>> JobServices::readyTimes() const {
    std::vector<std::pair<std::string, milliseconds>> out;
    for (const auto& s : services_) out.emplace_back(s->request.id, s->ready.value_or(milliseconds(0)));
    return out;
}

}  // namespace nixjail::runner::engine
