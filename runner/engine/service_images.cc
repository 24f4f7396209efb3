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
