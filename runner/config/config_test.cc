// The configuration file: the example loads, every key is read, mistakes point at file:line.
#include "runner/config/runner_config.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::config {
namespace {

using namespace std::chrono_literals;

std::string problems(const std::string& text) {
    auto r = parseConfig(text, "runner.yaml");
    EXPECT_FALSE(r.has_value());
    return r ? "" : workflow::formatAll(r.error());
}

TEST(RunnerConfig, GeneratedExampleLoadsWithItsDocumentedValues) {
    auto cfg = parseConfig(exampleConfig(), "example.yaml");
    ASSERT_TRUE(cfg.has_value()) << workflow::formatAll(cfg.error());
    EXPECT_EQ(cfg->runner.capacity, 1);
    EXPECT_EQ(cfg->runner.fetch_interval, 2s);
    EXPECT_EQ(cfg->runner.job_timeout, 3h);
    EXPECT_EQ(cfg->runner.shutdown_timeout, 3min);
    ASSERT_EQ(cfg->labels.count("nixos-latest"), 1u);
    EXPECT_EQ(cfg->labels.at("nixos-latest").packages,
              (std::vector<std::string>{"bash", "coreutils", "git"}));
    EXPECT_EQ(cfg->cache.git_budget, 10ull << 30);
    EXPECT_EQ(cfg->cache.actions_cache_budget, 10ull << 30);
    EXPECT_EQ(cfg->executor.memory, 4ull << 30);
    EXPECT_DOUBLE_EQ(cfg->executor.cpu_quota, 2.0);
    ASSERT_EQ(cfg->proxy.credentials.size(), 2u);
    EXPECT_EQ(cfg->proxy.credentials[1].file, "/run/secrets/pypi");
    EXPECT_EQ(cfg->metrics.address, "127.0.0.1:9464");
    EXPECT_EQ(cfg->nix.nixpkgs, "<nixpkgs>");
}

TEST(RunnerConfig, ActionsCacheBudgetZeroTurnsTheCacheServerOff) {
    auto off = parseConfig("cache: {actions_cache_budget: 0}\n", "runner.yaml");
    ASSERT_TRUE(off.has_value()) << workflow::formatAll(off.error());
    EXPECT_EQ(off->cache.actions_cache_budget, 0u);
    auto two = parseConfig("cache: {actions_cache_budget: 2G}\n", "runner.yaml");
    ASSERT_TRUE(two.has_value());
    EXPECT_EQ(two->cache.actions_cache_budget, 2ull << 30);
    EXPECT_NE(problems("cache: {actions_cache_budget: lots}\n").find("runner.yaml:1:31"),
              std::string::npos)
        << problems("cache: {actions_cache_budget: lots}\n");
}

TEST(RunnerConfig, LabelProfilesAreDefaultStrictOrTheOldJitRuntimeName) {
    auto cfg = parseConfig(
        "labels:\n  a: {profile: strict}\n  b: {profile: jit-runtime}\n  c: {packages: [bash]}\n",
        "runner.yaml");
    ASSERT_TRUE(cfg.has_value()) << workflow::formatAll(cfg.error());
    EXPECT_EQ(cfg->labels.at("a").profile, "strict");
    EXPECT_EQ(cfg->labels.at("b").profile, "jit-runtime");
    EXPECT_EQ(cfg->labels.at("c").profile, "default");
    EXPECT_NE(problems("labels:\n  a: {profile: lenient}\n").find("strict"), std::string::npos);
}

TEST(RunnerConfig, EmptyFileGivesTheDefaults) {
    auto cfg = parseConfig("", "empty.yaml");
    ASSERT_TRUE(cfg.has_value());
    EXPECT_EQ(cfg->runner.file, ".runner");
    EXPECT_EQ(cfg->database, "jobs.sqlite");
    EXPECT_EQ(cfg->executor.backend, "auto");
}

TEST(RunnerConfig, UnknownKeyNamesFileLineAndSuggests) {
    auto text = problems("runner:\n  capacity: 2\n  fetch_intervall: 3s\n");
    EXPECT_NE(text.find("runner.yaml:3:3: unknown key 'fetch_intervall' in 'runner'; did you mean "
                        "'fetch_interval'?"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("  fetch_intervall: 3s\n    ^"), std::string::npos) << text;
    EXPECT_NE(problems("metric: {address: ''}\n").find("did you mean 'metrics'?"),
              std::string::npos);
}

TEST(RunnerConfig, AllProblemsAreReportedTogether) {
    auto text = problems(
        "runner:\n  capacity: 0\n  job_timeout: 3\nexecutor:\n  backend: docker\n  limits: "
        "{memory: lots}\n"
        "log: {format: xml}\n");
    EXPECT_NE(text.find("runner.yaml:2:13: 'runner.capacity' is '0'"), std::string::npos) << text;
    EXPECT_NE(text.find("'runner.job_timeout' is '3', not a duration"), std::string::npos) << text;
    EXPECT_NE(
        text.find("'executor.backend' is 'docker'; choose one of auto, namespace, systemd, host"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("'executor.limits.memory' is 'lots', not a size"), std::string::npos)
        << text;
    EXPECT_NE(text.find("'log.format' is 'xml'"), std::string::npos) << text;
}

TEST(RunnerConfig, CacheStorageIsOneOfTheBackendsOrAuto) {
    for (const char* kind : {"auto", "btrfs", "reflink", "copy"}) {
        auto cfg = parseConfig(std::string("cache:\n  storage: ") + kind + "\n", "runner.yaml");
        ASSERT_TRUE(cfg.has_value()) << kind << ": " << workflow::formatAll(cfg.error());
        EXPECT_EQ(cfg->cache.storage, kind);
    }
    EXPECT_EQ(parseConfig("", "runner.yaml")->cache.storage, "auto");
    auto text = problems("cache:\n  dir: /var/cache/x\n  storage: btfrs\n");
    EXPECT_NE(text.find("runner.yaml:3:12: 'cache.storage' is 'btfrs'; choose one of auto, btrfs, "
                        "reflink, copy (did you mean 'btrfs'?)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("    storage: btfrs\n             ^"), std::string::npos) << text;
}

TEST(RunnerConfig, CredentialsNeedOneSourceAndATokenPlaceholder) {
    auto text = problems(
        "proxy:\n  credentials:\n    - {name: npm, env: A, file: /b, hosts: [x], header: "
        "'Authorization: x'}\n");
    EXPECT_NE(text.find("needs exactly one of 'env' or 'file'"), std::string::npos) << text;
    EXPECT_NE(text.find("needs a 'header' containing {token}"), std::string::npos) << text;
}

TEST(RunnerConfig, SecretHostsBindWorkflowSecretsToHosts) {
    auto cfg = parseConfig("proxy:\n  secret_hosts: {NPM_TOKEN: [registry.npmjs.org], API: [a.test, '*.b.test'],\n"
                           "                 UPLOAD: {hosts: [u.test], bodies: true}}\n"
                           "  repository_policy: true\n",
                           "runner.yaml");
    ASSERT_TRUE(cfg.has_value()) << workflow::formatAll(cfg.error());
    using Binding = RunnerConfig::Proxy::SecretHosts;
    EXPECT_EQ(cfg->proxy.secret_hosts.at("NPM_TOKEN"), (Binding{{"registry.npmjs.org"}, false}));
    EXPECT_EQ(cfg->proxy.secret_hosts.at("API"), (Binding{{"a.test", "*.b.test"}, false}));
    EXPECT_EQ(cfg->proxy.secret_hosts.at("UPLOAD"), (Binding{{"u.test"}, true}));
    EXPECT_TRUE(cfg->proxy.repository_policy);
    EXPECT_FALSE(parseConfig("proxy: {}\n", "runner.yaml")->proxy.repository_policy) << "off unless the admin allows it";
    EXPECT_NE(problems("proxy: {secret_hosts: {X: {hosts: [a], bodies: yes please}}}\n").find("write true or false"),
              std::string::npos);
    EXPECT_NE(problems("proxy: {secret_hosts: {X: {host: [a]}}}\n").find("did you mean 'hosts'"), std::string::npos);
    EXPECT_NE(problems("proxy: {secret_hosts: [a]}\n").find("must map secret names to lists of hosts"),
              std::string::npos);
    EXPECT_NE(problems("proxy: {secret_hosts: {X: []}}\n").find("secret 'X' needs at least one host"),
              std::string::npos);
}

TEST(RunnerConfig, HostOverridesAndTheDiskQuota) {
    auto cfg = parseConfig(
        "proxy:\n  host_overrides: {git.example.com: \"127.0.0.1:3000\", mirror.test: \"::1\"}\n"
        "executor: {limits: {disk: 20G}}\n",
        "runner.yaml");
    ASSERT_TRUE(cfg.has_value()) << workflow::formatAll(cfg.error());
    EXPECT_EQ(cfg->proxy.host_overrides.at("git.example.com"), "127.0.0.1:3000");
    EXPECT_EQ(cfg->proxy.host_overrides.at("mirror.test"), "::1");
    EXPECT_EQ(cfg->executor.disk, 20ull << 30);
    const auto text = problems("proxy:\n  host_overrides: {git.example.com: localhost:3000}\n");
    EXPECT_NE(text.find("runner.yaml:2:37"), std::string::npos) << text;
    EXPECT_NE(text.find("is not an IP address (or IP:PORT)"), std::string::npos) << text;
    EXPECT_NE(problems("proxy: {host_overrides: [a]}\n").find("must map host names"),
              std::string::npos);
    EXPECT_NE(problems("executor: {limits: {disk: huge}}\n").find("executor.limits.disk"),
              std::string::npos);
}

TEST(RunnerConfig, DefaultPackagesMapLabelsInFileOrder) {
    auto cfg = parseConfig("nix:\n  default_packages:\n    ubuntu-22.04: [bash]\n    'ubuntu-*': [bash, git]\n"
                           "    self-hosted: []\n",
                           "runner.yaml");
    ASSERT_TRUE(cfg.has_value()) << workflow::formatAll(cfg.error());
    using Entry = std::pair<std::string, std::vector<std::string>>;
    EXPECT_EQ(cfg->nix.default_packages,
              (std::vector<Entry>{{"ubuntu-22.04", {"bash"}}, {"ubuntu-*", {"bash", "git"}}, {"self-hosted", {}}}));
    EXPECT_EQ(parseConfig(exampleConfig(), "example.yaml")->nix.default_packages,
              (std::vector<Entry>{{"nix", {"bash", "coreutils", "git"}}}));
    EXPECT_NE(problems("nix: {default_packages: [bash]}\n").find("runner.yaml:1:25: 'nix.default_packages' must map"),
              std::string::npos)
        << problems("nix: {default_packages: [bash]}\n");
    EXPECT_NE(problems("nix: {default_packages: {linux: bash}}\n")
                  .find("'nix.default_packages.linux' must be a list"),
              std::string::npos);
}

TEST(RunnerConfig, ServiceAndContainerImagesAndTheReadyTimeout) {
    auto cfg = parseConfig(
        "services:\n"
        "  ready_timeout: 90s\n"
        "  images:\n"
        "    - image: \"mysql:8*\"\n"
        "      packages: [mysql80]\n"
        "      start: exec mysqld --datadir=/state/data --port=3306\n"
        "      ready: mysqladmin --protocol=tcp -P 3306 ping\n"
        "      ports: [3306, 33060]\n"
        "      env: {MYSQL_ROOT_PASSWORD: \"\", MYSQL_DATABASE: app}\n"
        "    - {image: \"memcached:*\", packages: [memcached], start: exec memcached, ports: "
        "[11211]}\n"
        "container:\n"
        "  images:\n"
        "    - image: \"ghcr.io/acme/builder:*\"\n"
        "      packages: [gcc, gnumake]\n",
        "runner.yaml");
    ASSERT_TRUE(cfg.has_value()) << workflow::formatAll(cfg.error());
    EXPECT_EQ(cfg->services.ready_timeout, 90s);
    ASSERT_EQ(cfg->services.images.size(), 2u);
    const auto& mysql = cfg->services.images[0];
    EXPECT_EQ(mysql.image, "mysql:8*");
    EXPECT_EQ(mysql.packages, std::vector<std::string>{"mysql80"});
    EXPECT_EQ(mysql.start, "exec mysqld --datadir=/state/data --port=3306");
    EXPECT_EQ(mysql.ready, "mysqladmin --protocol=tcp -P 3306 ping");
    EXPECT_EQ(mysql.ports, (std::vector<uint16_t>{3306, 33060}));
    EXPECT_EQ(mysql.env, (std::map<std::string, std::string>{{"MYSQL_DATABASE", "app"},
                                                             {"MYSQL_ROOT_PASSWORD", ""}}));
    EXPECT_EQ(cfg->services.images[1].image, "memcached:*");
    EXPECT_TRUE(cfg->services.images[1].ready.empty()) << "a port to wait for is enough";
    ASSERT_EQ(cfg->container.images.size(), 1u);
    EXPECT_EQ(cfg->container.images[0].image, "ghcr.io/acme/builder:*");
    EXPECT_EQ(cfg->container.images[0].packages, (std::vector<std::string>{"gcc", "gnumake"}));

    auto defaults = parseConfig("", "runner.yaml");
    ASSERT_TRUE(defaults.has_value());
    EXPECT_EQ(defaults->services.ready_timeout, 2min);
    EXPECT_TRUE(defaults->services.images.empty());
    EXPECT_TRUE(defaults->container.images.empty());
    auto example = parseConfig(exampleConfig(), "example.yaml");
    ASSERT_TRUE(example.has_value());
    EXPECT_EQ(example->services.ready_timeout, 2min);
}

TEST(RunnerConfig, AServiceImageNeedsAnImageAStartAndAReadyCheckOrPort) {
    auto text = problems(
        "services:\n"
        "  images:\n"
        "    - packages: [x]\n"
        "      ports: [1]\n"
        "    - image: \"a:*\"\n"
        "      packages: [a]\n");
    EXPECT_NE(text.find("runner.yaml:3:7: 'services.images[0]' needs an image pattern"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("runner.yaml:3:7: 'services.images[0]' needs a start script"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("runner.yaml:5:7: 'services.images[1]' needs a start script"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find(
            "runner.yaml:5:7: 'services.images[1]' needs a ready command or a port to wait for"),
        std::string::npos)
        << text;
    text = problems("container:\n  images:\n    - packages: [gcc]\n");
    EXPECT_NE(text.find("runner.yaml:3:7: 'container.images[0]' needs an image pattern"),
              std::string::npos)
        << text;
}

TEST(RunnerConfig, AServiceImagesBadPortIsADiagnostic) {
    for (const char* port : {"http", "0", "70000"}) {
        const auto text =
            problems(std::string("services:\n  images:\n    - image: \"a:*\"\n      start: exec a\n"
                                 "      ports: [") +
                     port + "]\n");
        EXPECT_NE(text.find(std::string("runner.yaml:5:14: 'services.images[0].ports' has '") +
                            port + "'; write port numbers"),
                  std::string::npos)
            << text;
    }
}

TEST(RunnerConfig, ServicesUnknownKeysAndShapesAreDiagnostics) {
    auto text = problems(
        "services:\n"
        "  ready_timout: 1m\n"
        "  images:\n"
        "    - image: \"a:*\"\n"
        "      start: exec a\n"
        "      port: [1]\n"
        "container:\n"
        "  image: [x]\n");
    EXPECT_NE(text.find("runner.yaml:2:3: unknown key 'ready_timout' in 'services'; did you mean "
                        "'ready_timeout'?"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find(
            "runner.yaml:6:7: unknown key 'port' in 'services.images[0]'; did you mean 'ports'?"),
        std::string::npos)
        << text;
    EXPECT_NE(
        text.find("runner.yaml:8:3: unknown key 'image' in 'container'; did you mean 'images'?"),
        std::string::npos)
        << text;
    text = problems("services: {ready_timeout: soon}\n");
    EXPECT_NE(text.find("runner.yaml:1:27: 'services.ready_timeout' is 'soon', not a duration"),
              std::string::npos)
        << text;
    EXPECT_NE(problems("services: {images: {image: x}}\n").find("'services.images' must be a list"),
              std::string::npos);
    EXPECT_NE(problems("container: {images: x}\n").find("'container.images' must be a list"),
              std::string::npos);
    EXPECT_NE(problems("services: {images: [{image: a, start: b, ports: [1], env: [X]}]}\n")
                  .find("'services.images[0].env' must map names to values"),
              std::string::npos);
}

TEST(RunnerConfig, InvalidYamlIsADiagnostic) {
    EXPECT_NE(problems("runner: [\n").find("runner.yaml:"), std::string::npos);
}

TEST(RunnerConfig, LoadConfigFileSaysHowToGetOne) {
    base::TempDir dir;
    try {
        loadConfigFile(dir.path() / "missing.yaml");
        FAIL();
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("nixjail-runner generate-config"), std::string::npos)
            << e.what();
    }
    base::writeFile(dir.path() / "ok.yaml", "runner: {capacity: 3}\n");
    EXPECT_EQ(loadConfigFile(dir.path() / "ok.yaml").runner.capacity, 3);
}

TEST(ConfigValues, Durations) {
    EXPECT_EQ(parseDuration("2s"), 2s);
    EXPECT_EQ(parseDuration("500ms"), 500ms);
    EXPECT_EQ(parseDuration("3m"), 3min);
    EXPECT_EQ(parseDuration("3h"), 3h);
    EXPECT_EQ(parseDuration("1d"), 24h);
    EXPECT_EQ(parseDuration("1h30m"), 90min);
    EXPECT_EQ(parseDuration("1.5s"), 1500ms);
    EXPECT_FALSE(parseDuration("3"));
    EXPECT_FALSE(parseDuration("3x"));
    EXPECT_FALSE(parseDuration(""));
    EXPECT_FALSE(parseDuration("-1s"));
}

TEST(ConfigValues, SizesAndCpuQuotas) {
    EXPECT_EQ(parseByteSize("10G"), 10ull << 30);
    EXPECT_EQ(parseByteSize("512M"), 512ull << 20);
    EXPECT_EQ(parseByteSize("64K"), 64ull << 10);
    EXPECT_EQ(parseByteSize("1024"), 1024u);
    EXPECT_EQ(parseByteSize("2GiB"), 2ull << 30);
    EXPECT_EQ(parseByteSize("2GB"), 2ull << 30);
    EXPECT_FALSE(parseByteSize("ten"));
    EXPECT_FALSE(parseByteSize("10X"));
    EXPECT_EQ(parseCpuQuota("200%"), 2.0);
    EXPECT_EQ(parseCpuQuota("1.5"), 1.5);
    EXPECT_FALSE(parseCpuQuota("2 cpus"));
}

}  // namespace
}  // namespace nixjail::runner::config
