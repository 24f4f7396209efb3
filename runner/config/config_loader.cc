// The only place the daemon's configuration meets yaml-cpp: every key is checked, unknown keys
// are errors with a suggestion, and all problems are reported together.
#include "runner/config/runner_config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <sstream>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "proxy/upstream_guard.h"

namespace nixjail::runner::config {

namespace {

namespace fs = std::filesystem;
using workflow::Diagnostic;
using workflow::Diagnostics;

class Reader {
  public:
    Reader(const std::string& text, std::string file) : file_(std::move(file)) {
        std::istringstream in(text);
        for (std::string l; std::getline(in, l);) lines_.push_back(l);
    }

    void error(const YAML::Mark& m, const std::string& message) {
        Diagnostic d{file_, m.line + 1, m.column + 1, message, {}};
        if (m.line >= 0 && static_cast<size_t>(m.line) < lines_.size()) {
            d.source_line = lines_[static_cast<size_t>(m.line)];
        }
        diags_.push_back(std::move(d));
    }
    void error(const YAML::Node& n, const std::string& message) { error(n.Mark(), message); }

    // Calls `handle` for each key of the mapping `node`; keys not in `known` are errors.
    void mapping(const YAML::Node& node, const std::string& where,
                 const std::vector<std::string>& known,
                 const std::function<void(const std::string&, const YAML::Node&)>& handle) {
        if (!node || node.IsNull()) return;
        if (!node.IsMap()) {
            error(node, "'" + where + "' must be a mapping");
            return;
        }
        for (const auto& kv : node) {
            const auto key = kv.first.as<std::string>();
            if (std::find(known.begin(), known.end(), key) == known.end()) {
                std::string hint = workflow::closestMatch(key, known);
                error(kv.first, "unknown key '" + key + "' in '" + where + "'" +
                                    (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
                continue;
            }
            handle(key, kv.second);
        }
    }

    std::string scalar(const YAML::Node& n, const std::string& key) {
        if (n.IsNull()) return "";
        if (!n.IsScalar()) {
            error(n, "'" + key + "' must be a single value");
            return "";
        }
        return n.Scalar();
    }
    void oneOf(const YAML::Node& n, const std::string& key, std::string& out,
               const std::vector<std::string>& allowed) {
        std::string v = scalar(n, key);
        if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
            std::string list;
            for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
            const std::string hint = workflow::closestMatch(v, allowed);
            error(n, "'" + key + "' is '" + v + "'; choose one of " + list +
                         (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
            return;
        }
        out = v;
    }
    void duration(const YAML::Node& n, const std::string& key, milliseconds& out) {
        std::string v = scalar(n, key);
        if (auto d = parseDuration(v)) {
            out = *d;
        } else {
            error(n,
                  "'" + key + "' is '" + v + "', not a duration; write e.g. 2s, 500ms, 3m or 3h");
        }
    }
    void size(const YAML::Node& n, const std::string& key, uint64_t& out) {
        std::string v = scalar(n, key);
        if (auto s = parseByteSize(v)) {
            out = *s;
        } else {
            error(n, "'" + key + "' is '" + v + "', not a size; write e.g. 10G, 512M or 1024");
        }
    }
    template <class Int>
    void integer(const YAML::Node& n, const std::string& key, Int& out, Int min) {
        std::string v = scalar(n, key);
        try {
            size_t used = 0;
            long long x = std::stoll(v, &used);
            if (used == v.size() && x >= static_cast<long long>(min)) {
                out = static_cast<Int>(x);
                return;
            }
        } catch (const std::exception&) {
        }
        error(n, "'" + key + "' is '" + v + "'; it must be a whole number of at least " +
                     std::to_string(min));
    }
    bool boolean(const YAML::Node& n, const std::string& key) {
        const std::string v = scalar(n, key);
        if (v == "true") return true;
        if (v != "false") error(n, "'" + key + "' is '" + v + "'; write true or false");
        return false;
    }
    std::vector<std::string> list(const YAML::Node& n, const std::string& key) {
        std::vector<std::string> out;
        if (n.IsNull()) return out;
        if (!n.IsSequence()) {
            error(n, "'" + key + "' must be a list, e.g. [a, b]");
            return out;
        }
        for (const auto& item : n) out.push_back(scalar(item, key));
        return out;
    }

    Diagnostics& diagnostics() { return diags_; }

  private:
    std::string file_;
    std::vector<std::string> lines_;
    Diagnostics diags_;
};

void readRunner(Reader& r, const YAML::Node& n, RunnerConfig::Runner& out) {
    r.mapping(n, "runner",
              {"file", "capacity", "fetch_interval", "fetch_timeout", "job_timeout",
               "shutdown_timeout", "labels"},
              [&](const std::string& k, const YAML::Node& v) {
                  if (k == "file") out.file = r.scalar(v, "runner.file");
                  if (k == "capacity") r.integer(v, "runner.capacity", out.capacity, 1);
                  if (k == "fetch_interval")
                      r.duration(v, "runner.fetch_interval", out.fetch_interval);
                  if (k == "fetch_timeout")
                      r.duration(v, "runner.fetch_timeout", out.fetch_timeout);
                  if (k == "job_timeout") r.duration(v, "runner.job_timeout", out.job_timeout);
                  if (k == "shutdown_timeout") {
                      r.duration(v, "runner.shutdown_timeout", out.shutdown_timeout);
                  }
                  if (k == "labels") out.labels = r.list(v, "runner.labels");
              });
}

void readLabels(Reader& r, const YAML::Node& n, std::map<std::string, LabelConfig>& out) {
    if (!n || n.IsNull()) return;
    if (!n.IsMap()) {
        r.error(n, "'labels' must map label names to {packages, profile, policy}");
        return;
    }
    for (const auto& kv : n) {
        const auto name = kv.first.as<std::string>();
        LabelConfig& label = out[name];
        const std::string where = "labels." + name;
        r.mapping(kv.second, where, {"packages", "profile", "policy"},
                  [&](const std::string& k, const YAML::Node& v) {
                      if (k == "packages") label.packages = r.list(v, where + ".packages");
                      if (k == "profile")
                          r.oneOf(v, where + ".profile", label.profile,
                                  {"default", "strict", "jit-runtime"});
                      if (k == "policy") label.policy = r.scalar(v, where + ".policy");
                  });
    }
}

void readDefaultPackages(Reader& r, const YAML::Node& n,
                         std::vector<std::pair<std::string, std::vector<std::string>>>& out) {
    if (!n || n.IsNull()) return;
    if (!n.IsMap()) {
        r.error(n, "'nix.default_packages' must map runs-on labels to package lists, e.g. "
                   "{ubuntu-*: [bash, coreutils, git]}");
        return;
    }
    for (const auto& kv : n) {
        const auto label = kv.first.as<std::string>();
        out.emplace_back(label, r.list(kv.second, "nix.default_packages." + label));
    }
}

void readExecutor(Reader& r, const YAML::Node& n, RunnerConfig::Executor& out) {
    r.mapping(n, "executor", {"backend", "limits"}, [&](const std::string& k, const YAML::Node& v) {
        if (k == "backend") {
            r.oneOf(v, "executor.backend", out.backend, {"auto", "namespace", "systemd", "host"});
        }
        if (k != "limits") return;
        r.mapping(v, "executor.limits", {"memory", "pids", "cpu_quota", "disk"},
                  [&](const std::string& lk, const YAML::Node& lv) {
                      if (lk == "memory") r.size(lv, "executor.limits.memory", out.memory);
                      if (lk == "disk") r.size(lv, "executor.limits.disk", out.disk);
                      if (lk == "pids") r.integer(lv, "executor.limits.pids", out.pids, 1u);
                      if (lk != "cpu_quota") return;
                      std::string text = r.scalar(lv, "executor.limits.cpu_quota");
                      if (auto q = parseCpuQuota(text)) {
                          out.cpu_quota = *q;
                      } else {
                          r.error(lv, "'executor.limits.cpu_quota' is '" + text +
                                          "'; write a percentage of one CPU (200%) or CPUs (2)");
                      }
                  });
    });
}

void readServices(Reader& r, const YAML::Node& n, RunnerConfig::Services& out) {
    r.mapping(n, "services", {"images", "ready_timeout"}, [&](const std::string& k, const YAML::Node& v) {
        if (k == "ready_timeout") r.duration(v, "services.ready_timeout", out.ready_timeout);
        if (k != "images" || v.IsNull()) return;
        if (!v.IsSequence()) {
            r.error(v, "'services.images' must be a list of {image, packages, start, ready, ports, env}");
            return;
        }
        for (std::size_t i = 0; i < v.size(); ++i) {
            const std::string where = "services.images[" + std::to_string(i) + "]";
            ServiceImageConfig img;
            r.mapping(v[i], where, {"image", "packages", "start", "ready", "ports", "env"},
                      [&](const std::string& ik, const YAML::Node& iv) {
                          if (ik == "image") img.image = r.scalar(iv, where + ".image");
                          if (ik == "packages") img.packages = r.list(iv, where + ".packages");
                          if (ik == "start") img.start = r.scalar(iv, where + ".start");
                          if (ik == "ready") img.ready = r.scalar(iv, where + ".ready");
                          if (ik == "ports") {
                              for (const auto& p : r.list(iv, where + ".ports")) {
                                  unsigned long port = 0;
                                  std::size_t used = 0;
                                  try {
                                      port = std::stoul(p, &used);
                                  } catch (const std::exception&) {
                                  }
                                  if (used != p.size()) port = 0;
                                  if (port == 0 || port > 65535) {
                                      r.error(iv, "'" + where + ".ports' has '" + p + "'; write port numbers");
                                  } else {
                                      img.ports.push_back(static_cast<uint16_t>(port));
                                  }
                              }
                          }
                          if (ik == "env") {
                              if (!iv.IsMap()) {
                                  r.error(iv, "'" + where + ".env' must map names to values");
                                  return;
                              }
                              for (const auto& e : iv) img.env[e.first.as<std::string>()] = r.scalar(e.second, where + ".env");
                          }
                      });
            if (img.image.empty()) r.error(v[i], "'" + where + "' needs an image pattern, e.g. \"postgres:16*\"");
            if (img.start.empty()) r.error(v[i], "'" + where + "' needs a start script (exec the server in the foreground)");
            if (img.ready.empty() && img.ports.empty()) {
                r.error(v[i], "'" + where + "' needs a ready command or a port to wait for");
            }
            out.images.push_back(std::move(img));
        }
    });
}

void readContainer(Reader& r, const YAML::Node& n, RunnerConfig::Container& out) {
    r.mapping(n, "container", {"images"}, [&](const std::string&, const YAML::Node& v) {
        if (v.IsNull()) return;
        if (!v.IsSequence()) {
            r.error(v, "'container.images' must be a list of {image, packages}");
            return;
        }
        for (std::size_t i = 0; i < v.size(); ++i) {
            const std::string where = "container.images[" + std::to_string(i) + "]";
            ContainerImageConfig img;
            r.mapping(v[i], where, {"image", "packages"}, [&](const std::string& ik, const YAML::Node& iv) {
                if (ik == "image") img.image = r.scalar(iv, where + ".image");
                if (ik == "packages") img.packages = r.list(iv, where + ".packages");
            });
            if (img.image.empty()) r.error(v[i], "'" + where + "' needs an image pattern, e.g. \"node:20*\"");
            out.images.push_back(std::move(img));
        }
    });
}

void readProxy(Reader& r, const YAML::Node& n, RunnerConfig::Proxy& out) {
    r.mapping(
        n, "proxy",
        {"mode", "policy", "extra_ca_file", "credentials", "host_overrides", "secret_hosts",
         "repository_policy"},
        [&](const std::string& k, const YAML::Node& v) {
            if (k == "mode") r.oneOf(v, "proxy.mode", out.mode, {"enforce", "audit"});
            if (k == "secret_hosts") {
                if (v.IsNull()) return;
                if (!v.IsMap()) {
                    r.error(v, "'proxy.secret_hosts' must map secret names to lists of hosts");
                    return;
                }
                for (const auto& item : v) {
                    const std::string name = item.first.as<std::string>();
                    const std::string where = "proxy.secret_hosts." + name;
                    RunnerConfig::Proxy::SecretHosts binding;
                    if (item.second.IsMap()) {
                        // {hosts: [...], bodies: true}
                        r.mapping(item.second, where, {"hosts", "bodies"},
                                  [&](const std::string& key, const YAML::Node& value) {
                                      if (key == "hosts") binding.hosts = r.list(value, where + ".hosts");
                                      if (key == "bodies") binding.bodies = r.boolean(value, where + ".bodies");
                                  });
                    } else {
                        binding.hosts = r.list(item.second, where);
                    }
                    if (binding.hosts.empty()) r.error(item.second, "secret '" + name + "' needs at least one host");
                    out.secret_hosts[name] = std::move(binding);
                }
                return;
            }
            if (k == "repository_policy") {
                out.repository_policy = r.boolean(v, "proxy.repository_policy");
                return;
            }
            if (k == "host_overrides") {
                if (v.IsNull()) return;
                if (!v.IsMap()) {
                    r.error(v, "'proxy.host_overrides' must map host names to IP or IP:PORT");
                    return;
                }
                for (const auto& item : v) {
                    const std::string host = item.first.as<std::string>();
                    const std::string value = r.scalar(item.second, "proxy.host_overrides." + host);
                    try {
                        proxy::parseHostOverride(value);
                        out.host_overrides[host] = value;
                    } catch (const base::Error& e) {
                        r.error(item.second, "'proxy.host_overrides." + host + "': " + e.what());
                    }
                }
                return;
            }
            if (k == "policy") out.policy = r.scalar(v, "proxy.policy");
            if (k == "extra_ca_file") out.extra_ca_file = r.scalar(v, "proxy.extra_ca_file");
            if (k != "credentials") return;
            if (v.IsNull()) return;
            if (!v.IsSequence()) {
                r.error(
                    v,
                    "'proxy.credentials' must be a list of {name, env|file, hosts, header, dummy}");
                return;
            }
            for (const auto& item : v) {
                CredentialConfig c;
                r.mapping(item, "proxy.credentials",
                          {"name", "env", "file", "hosts", "header", "dummy"},
                          [&](const std::string& ck, const YAML::Node& cv) {
                              const std::string key = "proxy.credentials." + ck;
                              if (ck == "name") c.name = r.scalar(cv, key);
                              if (ck == "env") c.env = r.scalar(cv, key);
                              if (ck == "file") c.file = r.scalar(cv, key);
                              if (ck == "hosts") c.hosts = r.list(cv, key);
                              if (ck == "header") c.header = r.scalar(cv, key);
                              if (ck == "dummy") c.dummy = r.scalar(cv, key);
                          });
                if (c.name.empty()) r.error(item, "a credential needs a 'name'");
                if (c.env.empty() == c.file.empty()) {
                    r.error(item,
                            "credential '" + c.name + "' needs exactly one of 'env' or 'file'");
                }
                if (c.hosts.empty()) r.error(item, "credential '" + c.name + "' needs 'hosts'");
                if (c.header.find("{token}") == std::string::npos) {
                    r.error(item,
                            "credential '" + c.name + "' needs a 'header' containing {token}");
                }
                out.credentials.push_back(std::move(c));
            }
        });
}

}  // namespace

base::Result<RunnerConfig, Diagnostics> parseConfig(const std::string& text,
                                                    const std::string& file) {
    Reader r(text, file);
    RunnerConfig cfg;
    cfg.source = file;
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        r.error(e.mark, "invalid YAML: " + e.msg);
        return base::unexpected(r.diagnostics());
    }
    if (root && !root.IsNull() && !root.IsMap()) {
        r.error(root, "the configuration must be a mapping of sections (log, runner, labels, ...)");
        return base::unexpected(r.diagnostics());
    }
    r.mapping(
        root, "the configuration",
        {"log", "runner", "labels", "cache", "nix", "executor", "proxy", "services", "container", "database",
         "metrics"},
        [&](const std::string& k, const YAML::Node& v) {
            if (k == "services") readServices(r, v, cfg.services);
            if (k == "container") readContainer(r, v, cfg.container);
            if (k == "log") {
                r.mapping(v, "log", {"level", "format"},
                          [&](const std::string& lk, const YAML::Node& lv) {
                              if (lk == "level") {
                                  r.oneOf(lv, "log.level", cfg.log.level,
                                          {"trace", "debug", "info", "warn", "error"});
                              }
                              if (lk == "format")
                                  r.oneOf(lv, "log.format", cfg.log.format, {"text", "json"});
                          });
            }
            if (k == "runner") readRunner(r, v, cfg.runner);
            if (k == "labels") readLabels(r, v, cfg.labels);
            if (k == "cache") {
                r.mapping(v, "cache",
                          {"dir", "storage", "git_budget", "workspace_budget", "roots_budget",
                           "actions_cache_budget"},
                          [&](const std::string& ck, const YAML::Node& cv) {
                              if (ck == "dir") cfg.cache.dir = r.scalar(cv, "cache.dir");
                              if (ck == "storage") {
                                  r.oneOf(cv, "cache.storage", cfg.cache.storage,
                                          {"auto", "btrfs", "reflink", "copy"});
                              }
                              if (ck == "git_budget")
                                  r.size(cv, "cache.git_budget", cfg.cache.git_budget);
                              if (ck == "workspace_budget") {
                                  r.size(cv, "cache.workspace_budget", cfg.cache.workspace_budget);
                              }
                              if (ck == "roots_budget")
                                  r.size(cv, "cache.roots_budget", cfg.cache.roots_budget);
                              if (ck == "actions_cache_budget") {
                                  r.size(cv, "cache.actions_cache_budget",
                                         cfg.cache.actions_cache_budget);
                              }
                          });
            }
            if (k == "nix") {
                r.mapping(v, "nix", {"nixpkgs", "default_packages"},
                          [&](const std::string& nk, const YAML::Node& nv) {
                              if (nk == "nixpkgs") cfg.nix.nixpkgs = r.scalar(nv, "nix.nixpkgs");
                              if (nk == "default_packages") readDefaultPackages(r, nv, cfg.nix.default_packages);
                          });
            }
            if (k == "executor") readExecutor(r, v, cfg.executor);
            if (k == "proxy") readProxy(r, v, cfg.proxy);
            if (k == "database") cfg.database = r.scalar(v, "database");
            if (k == "metrics") {
                r.mapping(v, "metrics", {"address"}, [&](const std::string&, const YAML::Node& mv) {
                    cfg.metrics.address = r.scalar(mv, "metrics.address");
                    const auto colon = cfg.metrics.address.rfind(':');
                    if (!cfg.metrics.address.empty() &&
                        (colon == std::string::npos || colon + 1 == cfg.metrics.address.size())) {
                        r.error(mv,
                                "'metrics.address' must be host:port, e.g. 127.0.0.1:9464 (empty: "
                                "off)");
                    }
                });
            }
        });
    if (cfg.runner.file.empty()) r.error(root.Mark(), "'runner.file' must not be empty");
    if (cfg.database.empty()) r.error(root.Mark(), "'database' must not be empty");
    if (!r.diagnostics().empty()) return base::unexpected(r.diagnostics());
    return cfg;
}

RunnerConfig loadConfigFile(const fs::path& path) {
    if (path.empty()) return std::move(*parseConfig("", "(defaults)"));
    std::string text;
    try {
        text = base::readFile(path);
    } catch (const base::Error& e) {
        throw base::Error(std::string(e.what()) +
                          "; write one with `nixjail-runner generate-config > " + path.string() +
                          "`");
    }
    auto cfg = parseConfig(text, path.string());
    if (!cfg) throw base::Error("invalid configuration:\n" + workflow::formatAll(cfg.error()));
    return std::move(*cfg);
}

}  // namespace nixjail::runner::config
