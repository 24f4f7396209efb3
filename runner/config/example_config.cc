// The documented example configuration that `nixjail-runner generate-config` prints.
#include "runner/config/runner_config.h"

namespace nixjail::runner::config {

const std::string& exampleConfig() {
    static const std::string kText =
        R"(# nixjail-runner configuration. Durations: 500ms, 2s, 3m, 3h, 1d. Sizes: 512M, 10G.
# Relative paths are taken from the working directory of the daemon.

log:
  level: info               # trace | debug | info | warn | error
  format: text              # text | json (one object per line)

runner:
  file: .runner             # written by `nixjail-runner register`
  capacity: 1               # jobs run at once
  fetch_interval: 2s        # between polls for a task
  fetch_timeout: 5s         # one FetchTask call
  job_timeout: 3h           # a job still running after this is cancelled and fails
  shutdown_timeout: 3m      # on SIGTERM: running jobs may finish this long, then are cancelled
  labels: []                # non-empty: declared instead of the runner file's labels

# What a job gets, by the runs-on label it was picked up for.
labels:
  nixos-latest:
    packages: [bash, coreutils, git]   # Nix attributes in the job's root
    profile: default                   # hardening profile: default (JITs allowed) | strict (no W+X memory)
    policy: /etc/nixjail-runner/policy.yaml   # network policy for these jobs

cache:
  dir: /var/cache/nixjail-runner   # roots, git mirrors, checkouts, fetched actions
  storage: auto             # auto (detected) | btrfs | reflink | copy; a forced one that cannot work stops the start
  git_budget: 10G
  workspace_budget: 20G
  roots_budget: 20G
  actions_cache_budget: 10G # the actions/cache server (ACTIONS_CACHE_URL) in <dir>/actions-cache; 0: none

nix:
  nixpkgs: "<nixpkgs>"      # the Nix expression packages are resolved against (a path, <nixpkgs>, a URL)
  # A job that declares no packages (labels.<name>.packages, NIXJAIL_PACKAGES) and whose repository
  # has no flake devShell gets the set of its first runs-on label that has one. Built in, after
  # these: ubuntu-*, linux and self-hosted get bash coreutils findutils gnugrep gnused gawk gnutar
  # gzip xz bzip2 which diffutils gnupatch git curl jq cacert; other labels get nothing.
  default_packages:
    nix: [bash, coreutils, git]

executor:
  backend: auto             # auto (systemd units where systemd is PID 1, else namespace) | namespace | systemd | host (no isolation)
  limits:
    memory: 4G              # per job
    pids: 4096
    cpu_quota: 200%         # of one CPU; 0: unlimited
    disk: 0                 # per job: workspace, home and temp on a volume of this size (e.g. 20G;
                            # needs root and loop devices; checkouts are then copies); 0: no quota

proxy:
  mode: enforce             # enforce | audit (allow all, record; then `nixjail-runner policy suggest JOB`)
  policy: /etc/nixjail-runner/policy.yaml   # the administrator's base policy
  extra_ca_file: ""         # more CAs the proxy trusts upstream
  host_overrides: {}        # name: "IP" or "IP:PORT" the proxy connects to for that name, e.g. a forge on
                            # this host: {git.example.com: "127.0.0.1:3000"} (only pins reach this host)
  secret_hosts: {}          # workflow secrets jobs see only as placeholders, swapped for the real value
                            # in requests to these hosts: {NPM_TOKEN: [registry.npmjs.org]}; in request
                            # bodies too: {UPLOAD: {hosts: [uploads.example.com], bodies: true}}
  repository_policy: false  # read .nixjail-network.yaml of each job's repository: its rules narrow the
                            # policy, its secret_hosts bind secrets left unbound here
  credentials:              # injected by the proxy; jobs only ever see the dummy value
    - name: npm
      env: NPM_TOKEN        # the token comes from this environment variable of the daemon
      hosts: [registry.npmjs.org]
      header: "Authorization: Bearer {token}"
      dummy: npm-dummy
    - name: pypi
      file: /run/secrets/pypi   # ... or from this file
      hosts: [upload.pypi.org]
      header: "Authorization: token {token}"
      dummy: pypi-dummy

# `services:` of a job (postgres:15, redis:7, ...) run as jailed Nix services in the job's own
# network; `container:` images add packages to the job's root. Built in: postgres, redis, mariadb,
# mysql, memcached; node, python, golang, rust, ubuntu, debian. These come first.
services:
  ready_timeout: 2m         # a job fails when its services are not ready by then
  images: []
  #  - image: "mysql:8*"      # a glob over the image without registry and library/
  #    packages: [mysql80]
  #    start: exec mysqld --datadir=/state/data --port=3306   # bash, in /state, ends in the server
  #    ready: mysqladmin --protocol=tcp -P 3306 ping          # optional: else the port accepting
  #    ports: [3306]
  #    env: {MYSQL_ROOT_PASSWORD: ""}                         # defaults under the job's env
container:
  images: []
  #  - image: "ghcr.io/acme/builder:*"
  #    packages: [gcc, gnumake, cmake]

database: jobs.sqlite       # job records for `jobs`, `stats` and metrics

metrics:
  address: "127.0.0.1:9464" # Prometheus /metrics; empty: off
)";
    return kText;
}

}  // namespace nixjail::runner::config
