// The built-in image table and its lookup.
#include "runner/engine/service_images.h"

#include <fnmatch.h>

namespace nixjail::runner::engine {

namespace {

// As the official image's entrypoint: an uninitialised cluster needs a superuser password (or
// POSTGRES_HOST_AUTH_METHOD=trust); POSTGRES_USER (postgres) owns it; POSTGRES_DB (the user's
// name) is created; POSTGRES_INITDB_ARGS go to initdb. Data in /state/data, sockets in /state/run.
// A server built to use the system's time zone files (/usr/share/zoneinfo, which a root of
// packages may lack) gets initdb's fallback, UTC0, which it knows without files.
constexpr const char* kPostgresStart = R"SH(set -eu
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
data="${PGDATA:-/state/data}"
mkdir -p /state/run
if [ ! -s "$data/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    echo "Error: Database is uninitialized and superuser password is not specified." >&2
    echo "       Set POSTGRES_PASSWORD in the service's env (or POSTGRES_HOST_AUTH_METHOD=trust)." >&2
    exit 1
  fi
  pwfile=()
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    printf '%s\n' "$POSTGRES_PASSWORD" > /state/.pwfile
    pwfile=(--pwfile=/state/.pwfile)
  fi
  initdb -D "$data" -U "$user" "${pwfile[@]}" --auth-local=trust \
    --auth-host="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" --no-locale -E UTF8 ${POSTGRES_INITDB_ARGS:-}
  rm -f /state/.pwfile
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\";" | postgres --single -D "$data" postgres > /dev/null
  fi
fi
exec postgres -D "$data" -k /state/run -c listen_addresses='*' -c port=5432
)SH";

constexpr const char* kPostgresReady =
    R"SH(pg_isready -q -h 127.0.0.1 -p 5432 -U "${POSTGRES_USER:-postgres}" -d "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}")SH";

// The server's socket directory, for a --health-cmd such as `pg_isready` run beside it.
const std::map<std::string, std::string> kPostgresEnv = {{"PGHOST", "/state/run"}};

constexpr const char* kRedisStart =
    "exec redis-server --port 6379 --bind 0.0.0.0 --protected-mode no --dir /state --save '' --appendonly no "
    "${REDIS_ARGS:-}\n";
constexpr const char* kRedisReady = R"SH([ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ])SH";

// MariaDB and MySQL, as their official images' entrypoints do on a new data directory: a root
// password setting is required; root@localhost gets the password, and so does a root at
// MYSQL_ROOT_HOST ('%'), with all privileges; MYSQL_DATABASE is created and MYSQL_USER (with
// MYSQL_PASSWORD) gets all of it, from any host. Each image's part reads its own env names (the
// mariadb image: MARIADB_*, else MYSQL_*) into the variables kMysqlStart uses, and has its message.
constexpr const char* kMariadbSettings = R"SH(set -euo pipefail
root_password=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}
allow_empty=${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-${MYSQL_ALLOW_EMPTY_PASSWORD:-}}
random_root=${MARIADB_RANDOM_ROOT_PASSWORD:-${MYSQL_RANDOM_ROOT_PASSWORD:-}}
root_host=${MARIADB_ROOT_HOST:-${MYSQL_ROOT_HOST:-%}}
database=${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}
user=${MARIADB_USER:-${MYSQL_USER:-}}
password=${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}
no_password=$'Database is uninitialized and password option is not specified\n\tYou need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD'
)SH";

constexpr const char* kMysqlSettings = R"SH(set -euo pipefail
root_password=${MYSQL_ROOT_PASSWORD:-}
allow_empty=${MYSQL_ALLOW_EMPTY_PASSWORD:-}
random_root=${MYSQL_RANDOM_ROOT_PASSWORD:-}
root_host=${MYSQL_ROOT_HOST:-%}
database=${MYSQL_DATABASE:-}
user=${MYSQL_USER:-}
password=${MYSQL_PASSWORD:-}
no_password='Database is uninitialized and password option is not specified
    You need to specify one of the following as an environment variable:
    - MYSQL_ROOT_PASSWORD
    - MYSQL_ALLOW_EMPTY_PASSWORD
    - MYSQL_RANDOM_ROOT_PASSWORD'
)SH";

// One script for either server, whichever the packages hold (mysql:* may be mapped to MariaDB):
// MariaDB (10.5 on) has mariadbd, MySQL only mysqld. Data in /state/data, the socket in
// /state/run, port 3306 on all addresses; no name resolution, as in the images. Each finds its
// share files (errmsg.sys, charsets, the system tables' SQL) under --basedir, <base>/share for
// <base>/bin/mysqld in nixpkgs. The setup SQL runs before the server listens, without a
// temporary server: MariaDB's in the bootstrap that creates the system tables (mariadb-install-db
// is a /bin/sh script that needs sed, which the service's root lacks, so its SQL is piped here as
// it does), MySQL's as --init-file of --initialize-insecure. The tests only run the MariaDB branch
// (the test package set's mysql80 is MariaDB).
constexpr const char* kMysqlStart = R"SH(datadir=/state/data
socket=${MYSQL_UNIX_PORT:-/state/run/mysqld.sock}
mkdir -p "${socket%/*}" /state/tmp
if server=$(command -v mariadbd); then
  mariadb=1
elif server=$(command -v mysqld); then
  mariadb=
else
  echo "[ERROR] [Entrypoint]: neither mariadbd nor mysqld is in the service's packages" >&2
  exit 1
fi
base=${server%/*/*}
# The data goes with the job: without its fsyncs, creating the system tables takes 1 s, not 5.
args=(--no-defaults --basedir="$base" --datadir="$datadir" --socket="$socket" --tmpdir=/state/tmp
  --skip-name-resolve --loose-innodb-flush-method=nosync --loose-innodb-doublewrite=0
  --innodb-flush-log-at-trx-commit=0)
# MySQL's defaults name directories of a packaged install (/var/run/mysqld, /var/lib/mysql-files).
[ -n "$mariadb" ] || args+=(--loose-mysqlx-socket=/state/run/mysqlx.sock --secure-file-priv=/state/files)
if [ ! -d "$datadir/mysql" ]; then
  if [ -z "$root_password" ] && [ -z "$allow_empty" ] && [ -z "$random_root" ]; then
    echo "[ERROR] [Entrypoint]: $no_password" >&2
    exit 1
  fi
  if [ "$user" = root ]; then
    echo "[ERROR] [Entrypoint]: the user root cannot be created: the USER and PASSWORD variables are for a regular user, root's password is ROOT_PASSWORD" >&2
    exit 1
  fi
  if [ -n "$user" ] && [ -z "$password" ]; then
    echo "[Warn] [Entrypoint]: user '$user' has no PASSWORD variable and is not created" >&2
  fi
  if [ -n "$random_root" ]; then
    root_password=$(printf %08x "$SRANDOM" "$SRANDOM" "$SRANDOM" "$SRANDOM")
    echo "[Note] [Entrypoint]: GENERATED ROOT PASSWORD: $root_password"
  fi
  quote() {
    local s=${1//\\/\\\\}
    s=${s//$'\n'/\\n}
    printf "'%s'" "${s//\'/\\\'}"
  }
  sql=("ALTER USER 'root'@'localhost' IDENTIFIED BY $(quote "$root_password");")
  if [ "$root_host" != localhost ]; then
    sql+=("CREATE USER 'root'@$(quote "$root_host") IDENTIFIED BY $(quote "$root_password");"
      "GRANT ALL ON *.* TO 'root'@$(quote "$root_host") WITH GRANT OPTION;")
  fi
  db=${database//\`/\`\`}
  [ -z "$database" ] || sql+=("CREATE DATABASE IF NOT EXISTS \`$db\`;")
  if [ -n "$user" ] && [ -n "$password" ]; then
    sql+=("CREATE USER $(quote "$user")@'%' IDENTIFIED BY $(quote "$password");")
    [ -z "$database" ] || sql+=("GRANT ALL ON \`${db//_/\\_}\`.* TO $(quote "$user")@'%';")
  fi
  umask 077
  mkdir -p "$datadir"
  if [ -n "$mariadb" ]; then
    # mariadb-install-db's passwordless root@127.0.0.1, root@::1 and root@<hostname> go, as the
    # image drops them; FLUSH PRIVILEGES loads the grant tables a bootstrap runs without.
    {
      printf '%s\n' 'CREATE DATABASE IF NOT EXISTS mysql;' 'USE mysql;' 'SET @auth_root_socket=NULL;'
      for f in mysql_system_tables mysql_performance_tables mysql_system_tables_data fill_help_tables \
          maria_add_gis_sp_bootstrap mysql_sys_schema; do
        [ ! -f "$base/share/mysql/$f.sql" ] || cat "$base/share/mysql/$f.sql"
      done
      printf '%s\n' "DELETE FROM mysql.global_priv WHERE User='root' AND Host<>'localhost';" \
        "DELETE FROM mysql.proxies_priv WHERE User='root' AND Host<>'localhost';" 'FLUSH PRIVILEGES;' "${sql[@]}"
    } | "$server" "${args[@]}" --bootstrap --log-warnings=0 --enforce-storage-engine= --skip-log-bin \
      --max-allowed-packet=8M --net-buffer-length=16K
  else
    mkdir -p /state/files
    printf '%s\n' "${sql[@]}" > /state/.init.sql
    "$server" "${args[@]}" --initialize-insecure --init-file=/state/.init.sql
    rm -f /state/.init.sql
  fi
fi
exec "$server" "${args[@]}" --port=3306
)SH";

// Over TCP, as the job connects; ping exits 0 once the server answers, even to a refused login.
constexpr const char* kMysqlReady =
    R"SH("$(command -v mariadb-admin || command -v mysqladmin)" --no-defaults --protocol=tcp -h 127.0.0.1 -P 3306 --connect-timeout=2 ping)SH";

// The server's socket, which the clients read, for a --health-cmd such as `mysqladmin ping`.
const std::map<std::string, std::string> kMysqlEnv = {{"MYSQL_UNIX_PORT", "/state/run/mysqld.sock"}};

// As the official image: in the foreground, no UDP. The image takes other options (-m) as its
// command, which `services:` cannot give: MEMCACHED_MEMORY (megabytes) stands for -m.
constexpr const char* kMemcachedStart = "exec memcached -p 11211 -l 0.0.0.0 -U 0 -m \"${MEMCACHED_MEMORY:-64}\"\n";

std::string withoutRegistry(std::string image) {
    // A first component with a dot or colon, or "localhost", is a registry.
    if (const auto slash = image.find('/'); slash != std::string::npos) {
        const std::string first = image.substr(0, slash);
        if (first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost") {
            image = image.substr(slash + 1);
        }
    }
    if (image.rfind("library/", 0) == 0) image = image.substr(8);
    return image;
}

// A pattern without a tag matches every tag ("mysql" is "mysql:*").
bool matches(std::string pattern, const std::string& image) {
    pattern = withoutRegistry(pattern);
    const auto slash = pattern.rfind('/');
    if (pattern.find(':', slash == std::string::npos ? 0 : slash) == std::string::npos) pattern += ":*";
    return ::fnmatch(pattern.c_str(), image.c_str(), 0) == 0;
}

// What a pattern is matched against: the image without its digest (a pinned digest without a
// tag is ":latest", as Docker resolves it).
std::string matchedName(const std::string& image) {
    std::string out = normalizeImage(image);
    if (const auto at = out.find('@'); at != std::string::npos) {
        out = out.substr(0, at);
        const auto slash = out.rfind('/');
        if (out.find(':', slash == std::string::npos ? 0 : slash) == std::string::npos) out += ":latest";
    }
    return out;
}

}  // namespace

std::string normalizeImage(const std::string& image) {
    std::string out = withoutRegistry(image);
    if (out.find('@') != std::string::npos) return out;
    const auto slash = out.rfind('/');
    if (out.find(':', slash == std::string::npos ? 0 : slash) == std::string::npos) out += ":latest";
    return out;
}

ImageTable builtinImages() {
    ImageTable t;
    for (int major = 12; major <= 17; ++major) {
        t.services.push_back({.image = "postgres:" + std::to_string(major) + "*",
                              .packages = {"postgresql_" + std::to_string(major)},
                              .start = kPostgresStart,
                              .ready = kPostgresReady,
                              .ports = {5432},
                              .env = kPostgresEnv,
                              .origin = "built in"});
    }
    t.services.push_back({.image = "postgres:*", .packages = {"postgresql"}, .start = kPostgresStart,
                          .ready = kPostgresReady, .ports = {5432}, .env = kPostgresEnv, .origin = "built in"});
    for (const char* redis : {"redis:*", "redis/redis-stack-server:*"}) {
        t.services.push_back({.image = redis, .packages = {"redis"}, .start = kRedisStart, .ready = kRedisReady,
                              .ports = {6379}, .origin = "built in"});
    }
    t.services.push_back({.image = "mariadb:*", .packages = {"mariadb"},
                          .start = std::string(kMariadbSettings) + kMysqlStart, .ready = kMysqlReady,
                          .ports = {3306}, .env = kMysqlEnv, .origin = "built in"});
    t.services.push_back({.image = "mysql:*", .packages = {"mysql80"},
                          .start = std::string(kMysqlSettings) + kMysqlStart, .ready = kMysqlReady,
                          .ports = {3306}, .env = kMysqlEnv, .origin = "built in"});
    // An empty `ready`: port 11211 accepting is ready.
    t.services.push_back({.image = "memcached:*", .packages = {"memcached"}, .start = kMemcachedStart,
                          .ports = {11211}, .origin = "built in"});
    for (int major : {18, 20, 22, 24}) {
        t.containers.push_back({.image = "node:" + std::to_string(major) + "*",
                                .packages = {"nodejs_" + std::to_string(major)}, .origin = "built in"});
    }
    t.containers.push_back({.image = "node:*", .packages = {"nodejs"}, .origin = "built in"});
    for (int minor = 9; minor <= 13; ++minor) {
        t.containers.push_back({.image = "python:3." + std::to_string(minor) + "*",
                                .packages = {"python3" + std::to_string(minor)}, .origin = "built in"});
    }
    t.containers.push_back({.image = "python:*", .packages = {"python3"}, .origin = "built in"});
    for (int minor = 21; minor <= 24; ++minor) {
        t.containers.push_back({.image = "golang:1." + std::to_string(minor) + "*",
                                .packages = {"go_1_" + std::to_string(minor)}, .origin = "built in"});
    }
    t.containers.push_back({.image = "golang:*", .packages = {"go"}, .origin = "built in"});
    t.containers.push_back({.image = "rust:*", .packages = {"rustc", "cargo"}, .origin = "built in"});
    // A plain distribution: the job's own packages (or its runs-on label's default set) are the
    // userland; nothing is added.
    for (const char* distro : {"ubuntu:*", "debian:*", "buildpack-deps:*"}) {
        t.containers.push_back({.image = distro, .packages = {}, .origin = "built in"});
    }
    return t;
}

ImageTable withExtraImages(ImageTable base, const ImageTable& extra) {
    base.services.insert(base.services.begin(), extra.services.begin(), extra.services.end());
    base.containers.insert(base.containers.begin(), extra.containers.begin(), extra.containers.end());
    return base;
}

const ServiceDefinition* findService(const ImageTable& table, const std::string& image) {
    const std::string wanted = matchedName(image);
    for (const auto& d : table.services) {
        if (matches(d.image, wanted)) return &d;
    }
    return nullptr;
}

const ContainerDefinition* findContainer(const ImageTable& table, const std::string& image) {
    const std::string wanted = matchedName(image);
    for (const auto& d : table.containers) {
        if (matches(d.image, wanted)) return &d;
    }
    return nullptr;
}

std::string serviceMappingSnippet(const std::string& image) {
    return "services:\n"
           "  images:\n"
           "    - image: \"" + normalizeImage(image) + "\"\n"
           "      packages: [the-nix-package]\n"
           "      start: exec the-server --port 1234 --data-dir /state\n"
           "      ready: the-client --port 1234 ping   # optional: else port 1234 accepting is ready\n"
           "      ports: [1234]\n";
}

std::string containerMappingSnippet(const std::string& image) {
    return "container:\n"
           "  images:\n"
           "    - image: \"" + normalizeImage(image) + "\"\n"
           "      packages: [the-nix-package]\n";
}

}  // namespace nixjail::runner::engine
