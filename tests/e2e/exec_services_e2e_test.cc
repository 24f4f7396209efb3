// End-to-end `services:` and `container:` in the namespace jail: Postgres, Redis, MariaDB and
// memcached run as jailed Nix services in the job's own network (from the Debian binaries
// tests/fixtures/nix copies), a service that never becomes ready or exits fails the job with its
// log, a cancelled job leaves nothing of its services, and `container:` adds its image's packages
// to the job's root. Needs root and Nix.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "e2e_run.h"
#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::TempDir;
using nixjail::e2e::has;
using nixjail::e2e::mountsUnder;
using nixjail::e2e::runBinary;

#define REQUIRE_ROOT_AND_NIX() NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing())

// The service binaries tests/fixtures/nix copies come from .ci/install-deps.
std::string serviceBinariesMissing() {
    if (fs::exists("/opt/nixjail-services/.complete") && fs::exists("/opt/nixjail-services/usr/sbin/mariadbd")) {
        return {};
    }
    return "needs the Postgres, Redis, MariaDB and memcached binaries in /opt/nixjail-services (run "
           ".ci/install-deps as root)";
}

// A process whose command line is exactly `argv`.
bool anyProcessRunning(const std::vector<std::string>& argv) {
    std::string want;
    for (const auto& a : argv) want += a + std::string(1, '\0');
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::ifstream cmdline(e.path() / "cmdline");
        std::string c((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
        if (c == want) return true;
    }
    return false;
}

class ServicesE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        REQUIRE_ROOT_AND_NIX();
        NIXJAIL_E2E_REQUIRE(serviceBinariesMissing());
    }
    std::vector<std::string> exec(const std::string& workflow, std::vector<std::string> extra = {}) {
        nixjail::base::writeFile(repo_.path() / "w.yml", workflow);
        std::vector<std::string> args{"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                                      (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                                      cache_.path().string(), "--no-color"};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }
    TempDir repo_{"nixjail-e2e-svc-"};
    TempDir cache_{"nixjail-e2e-cache-"};
    TempDir work_{"nixjail-e2e-work-"};
};

TEST_F(ServicesE2E, PostgresAndRedisAreReachedByNameAndByLocalhost) {
    const auto summary = work_.path() / "summary.json";
    auto args = exec(R"Y(on: push
jobs:
  db:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils postgresql_15 redis
    services:
      postgres:
        image: postgres:15
        env:
          POSTGRES_PASSWORD: pw-for-tests
          POSTGRES_DB: app
        ports:
          - 5432:5432
          - 15432:5432
        options: --health-cmd pg_isready --health-interval 1s --health-retries 30 --name ignored-here
      redis:
        image: redis:7
        ports: ["6379"]
    steps:
      - run: |
          export PGPASSWORD=pw-for-tests
          psql -h postgres -U postgres -d app -tAc 'select 40+2'
          psql -h localhost -U postgres -d app -tAc 'select current_database()'
          psql -h 127.0.0.1 -p 15432 -U postgres -d app -tAc "select 'through-the-mapped-port'"
          redis-cli -h redis set k from-redis > /dev/null
          redis-cli -h localhost get k
          echo "pg-port=${{ job.services.postgres.ports['5432'] }} redis-port=${{ job.services.redis.ports['6379'] }}"
)Y", {"--json-summary", summary.string()});
    auto r = runBinary(args, repo_.path(), nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (const char* want : {"| 42\n", "| app\n", "| through-the-mapped-port\n", "| from-redis\n",
                             "| pg-port=5432 redis-port=6379\n", "Service 'postgres' (postgres:15) ready in ",
                             "Service 'redis' (redis:7) ready in ", "database system is ready to accept connections",
                             "Service 'postgres': its log until it stopped", "options that cannot apply to a jailed Nix service are ignored: --name ignored-here"}) {
        EXPECT_TRUE(has(r.out, want)) << want << "\n" << r.out;
    }
    // The service's password is the job's env, not a secret: but nothing of the services stays.
    const auto parsed = nlohmann::json::parse(nixjail::base::readFile(summary));
    const auto& phases = parsed["workflows"][0]["jobs"][0]["phases"];
    ASSERT_TRUE(phases.contains("services_start")) << phases;
    EXPECT_EQ(phases["services_start"]["services"], 2);
    EXPECT_GT(phases["services_start"]["postgres_ready_ms"].get<int>(), 0);
    EXPECT_TRUE(mountsUnder(cache_.path()).empty());
}

// A service whose readiness check never passes fails the job before any step, with its log's end.
TEST_F(ServicesE2E, AServiceThatIsNeverReadyFailsTheJobWithItsLog) {
    nixjail::base::writeFile(work_.path() / "images.yaml", R"Y(services:
  ready_timeout: 5s
  images:
    - image: "sleepy:*"
      packages: [bash, coreutils]
      start: |
        echo "sleepy is starting, line one"
        echo "sleepy will never be ready"
        exec sleep 600.3
      ready: "false"
)Y");
    auto args = exec(R"Y(on: push
jobs:
  t:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils
    services:
      sleepy: sleepy:1
    steps:
      - run: echo the-step-ran
)Y", {"--service-images", (work_.path() / "images.yaml").string()});
    auto r = runBinary(args, repo_.path(), nixjail::e2e::nixEnv());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "service 'sleepy' (sleepy:1) was not ready after 5.00 s")) << r.out;
    EXPECT_TRUE(has(r.out, "its last readiness check `false` said nothing")) << r.out;
    EXPECT_TRUE(has(r.out, "sleepy will never be ready")) << r.out;
    EXPECT_FALSE(has(r.out, "the-step-ran")) << r.out;
    EXPECT_FALSE(anyProcessRunning({"sleep", "600.3"}));
    EXPECT_TRUE(mountsUnder(cache_.path()).empty());
}

// An image nobody mapped: the job fails saying how to map it.
TEST_F(ServicesE2E, AnUnmappedImageSaysHowToMapIt) {
    auto args = exec(R"Y(on: push
jobs:
  t:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils
    services:
      queue: rabbitmq:3-management
    steps:
      - run: echo the-step-ran
)Y");
    auto r = runBinary(args, repo_.path(), nixjail::e2e::nixEnv());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "service 'queue': no Nix definition for the image 'rabbitmq:3-management'")) << r.out;
    EXPECT_TRUE(has(r.out, "- image: \"rabbitmq:3-management\"")) << r.out;
    EXPECT_FALSE(has(r.out, "the-step-ran")) << r.out;
}

// Cancelled while its services run: no service process, mount or state directory is left. The
// `waiter` service's process has arguments no other test uses (tests run in parallel).
TEST_F(ServicesE2E, ACancelledJobLeavesNothingOfItsServices) {
    nixjail::base::writeFile(work_.path() / "images.yaml", R"Y(services:
  images:
    - image: "waiter:*"
      packages: [bash, coreutils]
      start: exec sleep 3600.7
      ready: "true"
)Y");
    auto args = exec(R"Y(on: push
jobs:
  t:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils redis
    services:
      redis: redis:7
      waiter: waiter:1
    steps:
      - run: sleep 61.5
)Y", {"--service-images", (work_.path() / "images.yaml").string()});
    args.insert(args.begin(), NIXJAIL_BINARY);
    const fs::path out = work_.path() / "out";
    nixjail::base::writeFile(out, "");
    nixjail::base::UniqueFd fd(::open(out.c_str(), O_WRONLY | O_CLOEXEC));
    std::vector<std::string> env = nixjail::e2e::nixEnv();
    // The job directories go here (o+x: the jails' setup runs as an unprivileged host id).
    fs::permissions(work_.path(), fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);
    env.push_back("TMPDIR=" + work_.path().string());
    auto child = nixjail::base::ChildProcess::spawn(
        {.argv = args, .env = env, .cwd = repo_.path(), .stdout_fd = fd.get(), .stderr_fd = fd.get()});
    bool started = false;
    for (int i = 0; i < 600 && !started; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        started = anyProcessRunning({"sleep", "61.5"});
    }
    if (!started) ::kill(child.pid(), SIGINT);
    ASSERT_TRUE(started) << nixjail::base::readFile(out);
    EXPECT_TRUE(anyProcessRunning({"sleep", "3600.7"}));
    ::kill(child.pid(), SIGINT);
    const auto st = child.wait();
    const std::string text = nixjail::base::readFile(out);
    EXPECT_NE(st.exitCode(), 0) << text;
    EXPECT_TRUE(has(text, "Service 'redis': its log until it stopped")) << text;
    EXPECT_FALSE(anyProcessRunning({"sleep", "3600.7"}));
    EXPECT_TRUE(mountsUnder(work_.path()).empty());
    for (const auto& e : fs::directory_iterator(work_.path())) {
        EXPECT_FALSE(e.path().filename().string().starts_with("nixjail-job-")) << "left: " << e.path();
    }
}

// `container: node:20`: the job's steps run with node in their root (mapped by the admin here:
// the test package set's node is whatever version the machine has).
TEST_F(ServicesE2E, AContainerImageAddsItsPackagesAndEnv) {
    nixjail::base::writeFile(work_.path() / "images.yaml", R"Y(container:
  images:
    - image: "node:20*"
      packages: [nodejs]
)Y");
    auto args = exec(R"Y(on: push
jobs:
  t:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils
    container:
      image: node:20
      env:
        FROM_CONTAINER: container-env
      volumes:
        - /data:/data
    steps:
      - run: |
          node -e 'console.log("node " + process.version.split(".")[0].length)'
          echo "env=$FROM_CONTAINER network=${{ job.container.network }}"
)Y", {"--service-images", (work_.path() / "images.yaml").string()});
    auto r = runBinary(args, repo_.path(), nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "Container 'node:20': the job's steps run in its root with 'nodejs' added")) << r.out;
    EXPECT_TRUE(has(r.out, "| node ")) << r.out;
    EXPECT_TRUE(has(r.out, "| env=container-env network=job")) << r.out;
    EXPECT_TRUE(has(r.out, "container.volumes cannot apply to a root of Nix packages and is ignored")) << r.out;
    // Unmapped: a clear error with the snippet.
    auto bad = runBinary(exec(R"Y(on: push
jobs:
  t:
    runs-on: nix
    container: ghcr.io/acme/builder:1
    steps:
      - run: echo the-step-ran
)Y"), repo_.path(), nixjail::e2e::nixEnv());
    EXPECT_EQ(bad.exit_code, 1) << bad.out;
    EXPECT_TRUE(has(bad.out, "the job's container image 'ghcr.io/acme/builder:1' has no Nix mapping")) << bad.out;
    EXPECT_TRUE(has(bad.out, "- image: \"acme/builder:1\"")) << bad.out;
}

// MariaDB as the official image sets it up (root over TCP with its password, a database and its
// user) and memcached, reached by name and by localhost; root has no passwordless login left.
TEST_F(ServicesE2E, MariadbAndMemcachedAreReachedByNameAndByLocalhost) {
    auto args = exec(R"Y(on: push
jobs:
  db:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils mariadb
    services:
      mariadb:
        image: mariadb:10.11
        env:
          MARIADB_ROOT_PASSWORD: rootpw
          MARIADB_DATABASE: app
          MARIADB_USER: u
          MARIADB_PASSWORD: upw
        ports: ["3306:3306"]
      memcached: memcached:1.6
    steps:
      - run: |
          mariadb -h mariadb -u u -pupw app -e 'select 40+2'
          mariadb -h mariadb -u u -pupw app -e "create table t (v text); insert into t values ('in-app')"
          mariadb --protocol=tcp -h localhost -u root -prootpw -N -e "select concat('root-', current_user(), '-', v) from app.t"
          mariadb -h 127.0.0.1 -u root -N -e 'select 1' 2>/dev/null || echo root-without-password-refused
          exec 3<>/dev/tcp/memcached/11211
          printf 'set k 0 0 14\r\nfrom-memcached\r\n' >&3
          read -r stored <&3
          echo "set: ${stored%$'\r'}"
          exec 3<&- 4<>/dev/tcp/localhost/11211
          printf 'get k\r\n' >&4
          read -r header <&4
          read -r value <&4
          echo "get: ${value%$'\r'}"
)Y");
    auto r = runBinary(args, repo_.path(), nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (const char* want : {"| 42\n", "| root-root@%-in-app\n", "| root-without-password-refused\n", "| set: STORED\n",
                             "| get: from-memcached\n", "Service 'mariadb' (mariadb:10.11) ready in ",
                             "Service 'memcached' (memcached:1.6) ready in ", "ready for connections"}) {
        EXPECT_TRUE(has(r.out, want)) << want << "\n" << r.out;
    }
    EXPECT_TRUE(mountsUnder(cache_.path()).empty());
}

// The built-in mysql:* definition (packages [mysql80]) with MYSQL_* env: the test package set's
// mysql80 is MariaDB (tests/fixtures/nix), so this runs its start script's MariaDB branch.
TEST_F(ServicesE2E, MysqlImageRunsItsStartScriptsMariadbBranchWithMysqlEnv) {
    auto args = exec(R"Y(on: push
jobs:
  db:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils mariadb
    services:
      mysql:
        image: mysql:8
        env:
          MYSQL_ROOT_PASSWORD: rootpw
          MYSQL_DATABASE: app
        ports: ["3306:3306"]
        options: --health-cmd "mysqladmin ping" --health-interval 1s --health-retries 60
    steps:
      - run: mysql -h 127.0.0.1 -u root -prootpw app -N -e "select concat('db-', database(), ' ', version())"
)Y");
    auto r = runBinary(args, repo_.path(), nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "Service 'mysql': mysql:8 from built in packages")) << r.out;
    EXPECT_TRUE(has(r.out, "Service 'mysql' (mysql:8) ready in ")) << r.out;
    EXPECT_TRUE(has(r.out, "| db-app 10.11.")) << r.out;
    EXPECT_TRUE(has(r.out, "-MariaDB")) << r.out;
}

// No root password setting on a new data directory: the service exits with the image's message.
TEST_F(ServicesE2E, AMariadbServiceWithoutARootPasswordSettingFailsWithTheImagesMessage) {
    auto args = exec(R"Y(on: push
jobs:
  t:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils
    services:
      db:
        image: mariadb:10.11
        env:
          MARIADB_DATABASE: app
    steps:
      - run: echo the-step-ran
)Y");
    auto r = runBinary(args, repo_.path(), nixjail::e2e::nixEnv());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "service 'db' (mariadb:10.11) exited with code 1 before it was ready")) << r.out;
    EXPECT_TRUE(has(r.out, "Database is uninitialized and password option is not specified")) << r.out;
    EXPECT_TRUE(has(r.out, "You need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD")) << r.out;
    EXPECT_FALSE(has(r.out, "the-step-ran")) << r.out;
    EXPECT_TRUE(mountsUnder(cache_.path()).empty());
}

}  // namespace
