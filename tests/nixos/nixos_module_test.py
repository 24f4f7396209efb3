#!/usr/bin/env python3
"""Offline checks of the Nix files and the NixOS module (see tests/nixos/README.md).

  nixos_module_test.py parse REPO   nix-instantiate --parse of every .nix file in the repository
  nixos_module_test.py eval REPO    evaluates tests/nixos/module_eval.nix and checks the option
                                    tree, the daemon settings, the systemd unit, the assertions
                                    and the registration script (run against a stub binary)

Exit 0: passed; 1: failed; 77: skipped (no nix-instantiate), which CTest reports as skipped.
With NIXJAIL_TESTS_STRICT=1 a missing nix-instantiate fails instead.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

SKIP = 77


class Checks:
    def __init__(self):
        self.failures = []
        self.count = 0

    def eq(self, what, got, want):
        self.count += 1
        if got != want:
            self.failures.append(f"{what}:\n    got  {got!r}\n    want {want!r}")

    def true(self, what, cond, detail=""):
        self.count += 1
        if not cond:
            self.failures.append(f"{what}" + (f": {detail}" if detail else ""))


def nix_instantiate():
    tool = os.environ.get("NIX_INSTANTIATE") or shutil.which("nix-instantiate")
    if tool:
        return tool
    reason = "nix-instantiate not found (apt install nix-bin)"
    if os.environ.get("NIXJAIL_TESTS_STRICT") == "1":
        print(f"FAIL: {reason}; NIXJAIL_TESTS_STRICT=1 forbids skipping")
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def nix_env():
    env = dict(os.environ)
    env["NIX_CONFIG"] = "sandbox = false\nsubstituters =\n"
    return env


# Offline and without a store: the dummy store needs neither a daemon nor a writable /nix, so the
# tests run the same as root and as any other user. Nothing they evaluate touches the store.
NIX_FLAGS = ["--store", "dummy://", "--readonly-mode"]


def nix_files(repo):
    for top, dirs, files in os.walk(repo):
        dirs[:] = sorted(
            d for d in dirs if not (d.startswith("build") or d.startswith(".") or d == "node_modules")
        )
        for f in sorted(files):
            if f.endswith(".nix"):
                yield os.path.join(top, f)


def run_parse(repo):
    tool = nix_instantiate()
    files = list(nix_files(repo))
    bad = []
    for f in files:
        p = subprocess.run([tool, *NIX_FLAGS, "--parse", f], env=nix_env(), capture_output=True, text=True)
        if p.returncode != 0:
            bad.append(f"{os.path.relpath(f, repo)}:\n{p.stderr.strip()}")
    if not files:
        print("FAIL: no .nix files found under " + repo)
        return 1
    if bad:
        print("FAIL: nix-instantiate --parse rejected:\n" + "\n".join(bad))
        return 1
    print(f"parsed {len(files)} .nix files: " + ", ".join(os.path.relpath(f, repo) for f in files))
    return 0


def keys_of(value, prefix=""):
    """Every key path of the settings, skipping user-chosen names (labels.<label>)."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            if prefix == "labels":
                out += keys_of(v, "labels.*")
                continue
            path = f"{prefix}.{k}" if prefix else k
            out.append((k, path))
            out += keys_of(v, path)
    elif isinstance(value, list):
        for item in value:
            out += keys_of(item, prefix)
    return out


def check_settings(c, repo, d):
    ci = d["instances"]["ci"]["settings"]
    c.eq("top-level keys", sorted(ci), sorted(
        ["log", "runner", "labels", "cache", "nix", "executor", "proxy", "database", "metrics"]))
    c.eq("runner.file", ci["runner"]["file"], "/var/lib/nixjail-runner/ci/.runner")
    c.eq("database", ci["database"], "/var/lib/nixjail-runner/ci/jobs.sqlite")
    c.eq("cache.dir", ci["cache"]["dir"], "/var/cache/nixjail-runner/ci")
    c.eq("runner.capacity", ci["runner"]["capacity"], 2)
    c.eq("runner.labels", ci["runner"]["labels"], ["nix", "nix-jit"])
    c.eq("settings override runner.fetch_interval", ci["runner"]["fetch_interval"], "5s")
    c.eq("typed runner.fetch_timeout kept beside the override", ci["runner"]["fetch_timeout"], "5s")
    c.eq("settings override executor.limits", ci["executor"]["limits"],
         {"memory": "8G", "pids": 4096, "cpu_quota": "200%", "disk": "20G"})
    c.eq("settings adds proxy.extra_ca_file", ci["proxy"]["extra_ca_file"], "/etc/ssl/corp-ca.pem")
    c.eq("nix.nixpkgs default", ci["nix"]["nixpkgs"], "/nix/store/00000000000000000000000000000000-nixpkgs-source")
    c.eq("log", ci["log"], {"level": "info", "format": "text"})
    c.eq("metrics.address", ci["metrics"]["address"], "127.0.0.1:9464")
    c.eq("labels.nix", ci["labels"]["nix"],
         {"packages": ["bash", "coreutils"], "profile": "default", "policy": "/etc/nixjail/nix-policy.yaml"})
    c.eq("labels.nix-jit", ci["labels"]["nix-jit"], {
        "packages": ["nodejs"], "profile": "jit-runtime",
        "policy": "/nix/store/00000000000000000000000000000000-nixjail-policy-ci-nix-jit.yaml"})
    c.eq("inline policy document", d["instances"]["ci"]["policyDocuments"]["nix-jit"],
         {"rules": [{"host": "registry.npmjs.org", "methods": ["GET"], "action": "allow"}]})
    c.eq("proxy.policy from inline defaultPolicy", ci["proxy"]["policy"],
         "/nix/store/00000000000000000000000000000000-nixjail-policy-ci.yaml")
    creds = {x["name"]: x for x in ci["proxy"]["credentials"]}
    c.eq("file credential", creds.get("npm"), {
        "name": "npm", "file": "/run/credentials/nixjail-runner-ci.service/cred-npm",
        "hosts": ["registry.npmjs.org"], "header": "Authorization: Bearer {token}",
        "dummy": "nixjail-npm-dummy"})
    c.eq("env credential", creds.get("gh"), {
        "name": "gh", "env": "GH_TOKEN", "hosts": ["api.github.com"],
        "header": "Authorization: token {token}", "dummy": "gh-dummy"})

    small = d["instances"]["small"]["settings"]
    c.eq("small: metrics off by default", small["metrics"]["address"], "")
    c.eq("small: custom cache.dir", small["cache"]["dir"], "/srv/btrfs/nixjail")
    c.eq("small: no labels map", small["labels"], {})
    c.eq("small: no credentials", small["proxy"], {"credentials": []})
    c.eq("small: executor defaults", small["executor"],
         {"backend": "auto", "limits": {"memory": "4G", "pids": 4096}})
    c.eq("small: runner defaults", small["runner"], {
        "file": "/var/lib/nixjail-runner/small/.runner", "capacity": 1, "labels": ["nix"],
        "fetch_interval": "2s", "fetch_timeout": "5s", "job_timeout": "3h", "shutdown_timeout": "3m"})

    # Every key the module writes is one the daemon's config reader knows (as a string literal).
    config_cc = os.path.join(repo, "runner/config/config_loader.cc")
    if os.path.exists(config_cc):
        text = open(config_cc, encoding="utf-8").read()
        for key, path in keys_of(ci):
            c.true(f"settings key '{path}' is read by runner/config/config_loader.cc", f'"{key}"' in text)
    else:
        print("note: runner/config/config_loader.cc not found; key names not cross-checked")


def check_service(c, d):
    svc = d["instances"]["ci"]["service"]
    sc = svc["serviceConfig"]
    store = "/nix/store/00000000000000000000000000000000-"
    c.eq("ExecStart", sc["ExecStart"],
         f"{store}nixjail-runner-0.1.0/bin/nixjail-runner daemon --config {store}nixjail-runner-ci.yaml")
    c.eq("ExecStartPre", sc["ExecStartPre"], f"{store}nixjail-runner-ci-register")
    for key, want in {
        "StateDirectory": "nixjail-runner/ci", "StateDirectoryMode": "0700",
        "CacheDirectory": "nixjail-runner/ci", "CacheDirectoryMode": "0711",
        "RuntimeDirectory": "nixjail-runner/ci", "WorkingDirectory": "/var/lib/nixjail-runner/ci",
        "Restart": "on-failure", "KillMode": "mixed", "TimeoutStopSec": "3m 30s",
        "Delegate": True, "DelegateSubgroup": "supervisor", "Type": "simple",
        "LoadCredential": ["registration-token:/run/secrets/forge-token", "cred-npm:/run/secrets/npm-token"],
        "EnvironmentFile": ["/run/secrets/runner.env"],
    }.items():
        c.eq(f"serviceConfig.{key}", sc.get(key), want)
    c.eq("environment", svc["environment"], {"NIX_REMOTE": "daemon", "HOME": "/var/lib/nixjail-runner/ci"})
    c.eq("path", svc["path"],
         [f"{store}nixjail-runner-0.1.0", f"{store}nix-2.24", f"{store}git-2.47", f"{store}systemd-257"])
    c.eq("wantedBy", svc["wantedBy"], ["multi-user.target"])
    c.true("after network-online.target and nix-daemon.socket",
           {"network-online.target", "nix-daemon.socket"} <= set(svc["after"]))
    caps = set(sc["CapabilityBoundingSet"])
    c.true("capabilities a jail needs", {"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SETUID", "CAP_SETGID",
                                         "CAP_SYS_CHROOT", "CAP_SETPCAP"} <= caps, str(sorted(caps)))
    c.true("no module, raw I/O or ptrace capabilities",
           not ({"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_PTRACE", "CAP_SYS_TIME"} & caps))
    for key, want in {
        "NoNewPrivileges": True, "ProtectSystem": "strict", "ProtectHome": True, "PrivateTmp": True,
        "ProtectKernelModules": True, "RestrictSUIDSGID": True,
        "SystemCallArchitectures": "native",
        # would break jails (see nixos-module/hardening.nix)
        "ProtectKernelTunables": False, "ProtectKernelLogs": False, "ProtectControlGroups": False,
        "ProtectHostname": False, "RestrictNamespaces": False, "PrivateUsers": False,
        "MemoryDenyWriteExecute": False, "ProtectProc": "default", "ProcSubset": "all",
    }.items():
        c.eq(f"hardening {key}", sc.get(key), want)
    c.true("no service-wide SystemCallFilter (jobs would inherit it)", "SystemCallFilter" not in sc)
    c.true("User is root (not set)", "User" not in sc and "DynamicUser" not in sc)

    # ci has a disk quota: loop devices, and otherwise the same closed device list.
    c.eq("ci (disk quota): PrivateDevices off", sc.get("PrivateDevices"), False)
    c.true("ci (disk quota): loop devices allowed",
           {"/dev/loop-control rw", "block-loop rw", "/dev/null rw"} <= set(sc.get("DeviceAllow", [])),
           str(sc.get("DeviceAllow")))
    c.eq("ci: DevicePolicy closed", sc.get("DevicePolicy"), "closed")
    small = d["instances"]["small"]["service"]["serviceConfig"]
    c.eq("small (no disk quota): PrivateDevices", small.get("PrivateDevices"), True)
    c.eq("small (no disk quota): no loop devices", small.get("DeviceAllow"),
         ["/dev/null rw", "/dev/zero rw", "/dev/full rw", "/dev/random rw", "/dev/urandom rw",
          "/dev/tty rw", "/dev/ptmx rw", "char-pts rw"])
    c.eq("small: no token, no credentials", small["LoadCredential"], [])
    c.eq("small: custom cache dir writable", small.get("ReadWritePaths"), ["/srv/btrfs/nixjail"])
    c.eq("small: custom cache dir made by tmpfiles", d["instances"]["small"]["tmpfilesRules"],
         ["d /srv/btrfs/nixjail 0711 root root -"])
    c.true("ci: default cache dir needs no ReadWritePaths", "ReadWritePaths" not in sc)
    c.true("small: no EnvironmentFile", "EnvironmentFile" not in small)
    c.eq("disabled instances get no service", d["enabledInstances"], ["broken", "ci", "small"])


def check_assertions(c, d):
    for name in ("ci", "small"):
        failed = [a["message"] for a in d["instances"][name]["assertions"] if not a["assertion"]]
        c.eq(f"{name}: no failed assertions", failed, [])
    failed = [a["message"] for a in d["instances"]["broken"]["assertions"] if not a["assertion"]]
    opt = "services.nixjail-runner.instances.broken"
    for needle in (f"{opt}.url must be set", f"{opt}.capacity must be at least 1 (it is 0)",
                   f"{opt}.labels must name at least one label",
                   f"{opt}.cache.dir must be an absolute path outside /home",
                   f"{opt}.credentials.bad: source = \"env\" needs `env`",
                   f"{opt}.credentials.bad.hosts must name", f"{opt}.credentials.bad.header must contain {{token}}",
                   f"{opt}.credentials.nofile: source = \"file\" needs `file`"):
        c.true(f"assertion fires: {needle}", any(m.startswith(needle) for m in failed), str(failed))
    c.eq("broken: number of failed assertions", len(failed), 8)
    globals_failed = [a["message"] for a in d["globalAssertions"] if not a["assertion"]]
    c.true("shared metrics.address is rejected",
           len(globals_failed) == 1 and "same metrics.address" in globals_failed[0], str(globals_failed))


def check_options(c, d):
    c.eq("options without description or type", d["undocumented"], [])
    c.true("a wrongly typed value fails evaluation", d["typeErrorCaught"])
    c.true("an unknown option fails evaluation", d["unknownOptionCaught"])
    want = ["enable", "package", "instances", "instances.<name>.enable", "instances.<name>.url",
            "instances.<name>.tokenFile", "instances.<name>.name", "instances.<name>.labels",
            "instances.<name>.capacity", "instances.<name>.settings",
            "instances.<name>.credentials.<name>.source", "instances.<name>.credentials.<name>.hosts",
            "instances.<name>.credentials.<name>.header", "instances.<name>.credentials.<name>.dummy",
            "instances.<name>.policies", "instances.<name>.cache.dir",
            "instances.<name>.cache.gitBudget", "instances.<name>.cache.workspaceBudget",
            "instances.<name>.cache.rootsBudget", "instances.<name>.cache.actionsCacheBudget",
            "instances.<name>.metrics.address"]
    missing = [p for p in want if p not in d["optionPaths"]]
    c.eq("options the module promises", missing, [])
    opts = d["instances"]["broken"]["options"]
    c.eq("default name is <hostname>-<instance>", opts["name"], "testhost-broken")
    c.eq("default capacity of another instance", d["instances"]["small"]["options"]["capacity"], 1)


def check_register_script(c, repo, d):
    script = d["instances"]["ci"]["registerScript"]
    register_cc = os.path.join(repo, "runner/cli/cmd_register.cc")
    cc = open(register_cc, encoding="utf-8").read()
    for flag in sorted(set(re.findall(r"(--[a-z][a-z-]*)", script))):
        c.true(f"register flag {flag} exists in runner/cli/cmd_register.cc", f'"{flag}"' in cc)

    store_pkg = "/nix/store/00000000000000000000000000000000-nixjail-runner-0.1.0"
    with tempfile.TemporaryDirectory(prefix="nixjail-nixos-test-") as tmp:
        # A stand-in for the package: records its argv, one argument per line (NUL-free).
        os.makedirs(f"{tmp}/pkg/bin")
        with open(f"{tmp}/pkg/bin/nixjail-runner", "w") as f:
            f.write("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$ARGV_OUT\"\n")
        os.chmod(f"{tmp}/pkg/bin/nixjail-runner", 0o755)
        runner_file = f"{tmp}/state/.runner"
        os.makedirs(f"{tmp}/state")
        text = script.replace(store_pkg, f"{tmp}/pkg").replace("/var/lib/nixjail-runner/ci/.runner", runner_file)
        with open(f"{tmp}/register.sh", "w") as f:
            f.write(text)
        os.makedirs(f"{tmp}/creds")
        token = "tok'en $HOME `x`"
        with open(f"{tmp}/creds/registration-token", "w") as f:
            f.write(token)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ARGV_OUT": f"{tmp}/argv",
               "CREDENTIALS_DIRECTORY": f"{tmp}/creds"}

        p = subprocess.run(["bash", f"{tmp}/register.sh"], env=env, capture_output=True, text=True)
        c.eq("register: exit status with a token and no runner file", (p.returncode, p.stderr), (0, ""))
        argv = open(f"{tmp}/argv").read().split("\n")[:-1] if os.path.exists(f"{tmp}/argv") else None
        c.eq("register: argv", argv, [
            "register", "--no-interactive", "--instance", "https://forge.example.com",
            "--token-file", f"{tmp}/creds/registration-token",
            "--name", "testhost-ci", "--labels", "nix,nix-jit", "--runner-file", runner_file])

        os.remove(f"{tmp}/argv")
        open(runner_file, "w").close()
        p = subprocess.run(["bash", f"{tmp}/register.sh"], env=env, capture_output=True, text=True)
        c.true("register: skipped when the runner file exists",
               p.returncode == 0 and not os.path.exists(f"{tmp}/argv"), p.stderr)

        os.remove(runner_file)
        env.pop("CREDENTIALS_DIRECTORY")
        p = subprocess.run(["bash", f"{tmp}/register.sh"], env=env, capture_output=True, text=True)
        c.true("register: fails clearly without runner file and token",
               p.returncode == 1 and "no registration token" in p.stderr and "tokenFile" in p.stderr
               and not os.path.exists(f"{tmp}/argv"), f"exit {p.returncode}: {p.stderr}")

    quoted = d["instances"]["small"]["registerScript"]
    c.true("register: names are shell-quoted", "--name 'it'\\''s-small'" in quoted)


def check_glue(c, repo, tool):
    """nixos-module/default.nix evaluated with the shim and stand-in pkgs (module_glue_eval.nix)."""
    p = subprocess.run([tool, *NIX_FLAGS, "--eval", "--strict", "--json",
                        os.path.join(repo, "tests/nixos/module_glue_eval.nix")],
                       env=nix_env(), capture_output=True, text=True)
    c.true("default.nix evaluates", p.returncode == 0, p.stderr)
    if p.returncode != 0:
        return
    g = json.loads(p.stdout)
    store = "/nix/store/00000000000000000000000000000000-"
    c.true("config is mkIf cfg.enable", g["isConditional"] and g["condition"])
    c.eq("one unit per enabled instance", g["units"], ["nixjail-runner-main"])
    c.eq("glue: failed assertions", g["failedAssertions"], [])
    c.eq("glue: per-instance, global and nix.enable assertions", g["assertionCount"], 6)
    c.eq("glue: tmpfiles for the custom cache dir", g["tmpfiles"], ["d /srv/cache 0711 root root -"])
    c.eq("glue: the package is installed", g["systemPackages"], [f"{store}nixjail-runner"])
    c.eq("glue: the systemd backend's step account (executor auto)", g["users"], {
        "users": {"nixjail-step": {"isSystemUser": True, "uid": 1879049192, "group": "nixjail-step",
                                   "description": "nixjail-runner job steps (systemd backend)"}},
        "groups": {"nixjail-step": {"gid": 1879049192}}})
    sc = g["service"]["serviceConfig"]
    c.eq("glue: path has the package, config.nix.package, git and config.systemd.package", g["service"]["path"],
         [f"{store}nixjail-runner", f"{store}nix", f"{store}git", f"{store}systemd"])
    head, _, config = sc["ExecStart"].partition("#")
    c.eq("glue: ExecStart runs the generated YAML", head,
         f"{store}nixjail-runner/bin/nixjail-runner daemon --config {store}nixjail-runner-main.yaml")
    settings = json.loads(config) if config else {}
    c.eq("glue: settings runner.file", settings.get("runner", {}).get("file"), "/var/lib/nixjail-runner/main/.runner")
    c.eq("glue: settings cache.dir", settings.get("cache", {}).get("dir"), "/srv/cache")
    policy = settings.get("labels", {}).get("nix", {}).get("policy", "")
    ppath, _, pdoc = policy.partition("#")
    c.eq("glue: inline policy written with formats.yaml", ppath, f"{store}nixjail-policy-main-nix.yaml")
    c.eq("glue: inline policy document", json.loads(pdoc) if pdoc else None,
         {"rules": [{"host": "example.com", "action": "allow"}]})
    spath, _, script = sc["ExecStartPre"].partition("#")
    c.eq("glue: ExecStartPre is the written script", spath, f"{store}nixjail-runner-main-register")
    c.true("glue: script registers with the host-derived name",
           "register --no-interactive" in script and "--name 'gluehost-main'" in script, script)


# Debian build dependencies (.ci/install-deps) and the nixpkgs attribute package.nix uses for each.
DEBIAN_TO_NIXPKGS = {
    "nlohmann-json3-dev": "nlohmann_json", "libgit2-dev": "libgit2", "libsqlite3-dev": "sqlite",
    "libssl-dev": "openssl", "libspdlog-dev": "spdlog", "libyaml-cpp-dev": "yaml-cpp",
    "libgtest-dev": "gtest", "libgmock-dev": "gtest", "libcurl4-openssl-dev": "curl",
    "libcli11-dev": "cli11", "libseccomp-dev": "libseccomp", "libasio-dev": "asio",
    "libbenchmark-dev": None,  # bench/ only; package.nix sets -DNIXJAIL_BENCH=OFF
}


def check_packaging(c, repo, tool):
    """package.nix and flake.nix evaluated against stand-ins (packaging_eval.nix)."""
    p = subprocess.run([tool, *NIX_FLAGS, "--eval", "--strict", "--json",
                        os.path.join(repo, "tests/nixos/packaging_eval.nix")],
                       env=nix_env(), capture_output=True, text=True)
    c.true("package.nix and flake.nix evaluate", p.returncode == 0, p.stderr)
    if p.returncode != 0:
        return
    r = json.loads(p.stdout)
    pkg, flake = r["package"], r["flake"]
    c.eq("package: nativeBuildInputs", pkg["nativeBuildInputs"], ["cmake", "ninja", "pkg-config", "makeWrapper"])
    c.true("package: benchmarks off", "-DNIXJAIL_BENCH=OFF" in pkg["cmakeFlags"], str(pkg["cmakeFlags"]))
    c.eq("package: wrapper puts nix and git on PATH", pkg["postInstall"].split(),
         ["wrapProgram", "$out/bin/nixjail-runner", "\\", "--suffix", "PATH", ":",
          "/nix/store/00000000000000000000000000000000-nix/bin:/nix/store/00000000000000000000000000000000-git/bin"])
    c.eq("package: source filter", pkg["srcKeeps"], {
        ".git": False, "build": False, "build-asan": False, "result": False,
        "runner": True, "CMakeLists.txt": True, "nixos-module": True})
    c.eq("package: mainProgram", pkg["mainProgram"], "nixjail-runner")
    # nixjail-jail-check links statically; Debian's libc6-dev has libc.a, nixpkgs splits it out.
    c.true("package: glibc.static for the static self-check program", "glibc-static" in pkg["buildInputs"],
           str(pkg["buildInputs"]))
    # Every Debian -dev package the build installs has its nixpkgs counterpart in buildInputs.
    deps = open(os.path.join(repo, ".ci/install-deps"), encoding="utf-8").read()
    build = deps.split("# build", 1)[1].split("# sanitizer", 1)[0]
    for deb in sorted(set(re.findall(r"[a-z0-9.+-]+-dev\b", build))):
        if deb not in DEBIAN_TO_NIXPKGS:
            c.true(f"Debian build dependency {deb} is mapped to a nixpkgs attribute", False,
                   "add it to package.nix's buildInputs and to DEBIAN_TO_NIXPKGS in this test")
        elif DEBIAN_TO_NIXPKGS[deb] is not None:
            c.true(f"package: {deb} -> {DEBIAN_TO_NIXPKGS[deb]} in buildInputs",
                   DEBIAN_TO_NIXPKGS[deb] in pkg["buildInputs"], str(pkg["buildInputs"]))
    systems = ["aarch64-linux", "x86_64-linux"]
    c.eq("flake: packages for", flake["packageSystems"], systems)
    c.eq("flake: devShells for", flake["devShellSystems"], systems)
    c.true("flake: outputs", {"packages", "nixosModules", "devShells", "overlays"} <= set(flake["outputNames"]),
           str(flake["outputNames"]))
    built = {"callPackageOf": "package.nix", "system": "x86_64-linux"}
    c.eq("flake: packages.x86_64-linux.default", flake["defaultPackage"], built)
    c.eq("flake: packages.aarch64-linux.nixjail-runner", flake["aarch64Package"],
         {"callPackageOf": "package.nix", "system": "aarch64-linux"})
    c.eq("flake: overlay", flake["overlay"], built)
    c.eq("flake: devShell builds from the package's inputs", flake["devShellInputsFrom"], [built])
    c.eq("flake: nixosModules.default imports the module", flake["moduleImports"], ["nixos-module"])
    c.eq("flake: the module's package defaults to the flake's", flake["modulePackage"],
         {"_type": "override", "priority": 1000,
          "content": {"callPackageOf": "package.nix", "system": "aarch64-linux"}})


def check_readme_example(c, repo, tool):
    """The `# runner.nix` example in README.md's NixOS section evaluates and passes assertions."""
    readme = open(os.path.join(repo, "README.md"), encoding="utf-8").read()
    blocks = [b for b in re.findall(r"```nix\n(.*?)```", readme, re.S) if b.startswith("# runner.nix")]
    c.eq("README.md has one '# runner.nix' example", len(blocks), 1)
    if len(blocks) != 1:
        return
    with tempfile.TemporaryDirectory(prefix="nixjail-nixos-readme-") as tmp:
        example = os.path.join(tmp, "runner.nix")
        with open(example, "w") as f:
            f.write(blocks[0])
        p = subprocess.run([tool, *NIX_FLAGS, "--eval", "--strict", "--json",
                            os.path.join(repo, "tests/nixos/readme_example_eval.nix"),
                            "--arg", "example", example], env=nix_env(), capture_output=True, text=True)
    c.true("README example evaluates", p.returncode == 0, p.stderr)
    if p.returncode != 0:
        return
    r = json.loads(p.stdout)
    c.true("README example enables the service", r["enable"])
    c.eq("README example: failed assertions", r["failedAssertions"], [])
    c.true("README example has instances", len(r["instances"]) >= 1)
    for name, inst in r["instances"].items():
        c.eq(f"README example {name}: unit runs the daemon", inst["service"]["serviceConfig"]["ExecStart"].split()[1:3],
             ["daemon", "--config"])


def run_eval(repo):
    tool = nix_instantiate()
    expr = os.path.join(repo, "tests/nixos/module_eval.nix")
    p = subprocess.run([tool, *NIX_FLAGS, "--eval", "--strict", "--json", expr],
                       env=nix_env(), capture_output=True, text=True)
    if p.returncode != 0:
        print("FAIL: evaluating tests/nixos/module_eval.nix:\n" + p.stderr)
        return 1
    d = json.loads(p.stdout)
    c = Checks()
    for check in (lambda: check_options(c, d), lambda: check_settings(c, repo, d),
                  lambda: check_service(c, d), lambda: check_assertions(c, d),
                  lambda: check_register_script(c, repo, d), lambda: check_readme_example(c, repo, tool),
                  lambda: check_glue(c, repo, tool), lambda: check_packaging(c, repo, tool)):
        try:
            check()
        except (KeyError, IndexError, TypeError) as e:
            # The rest of that group is not checked; the missing key is the failure.
            c.failures.append(f"the evaluation result lacks {e!r}:\n{traceback.format_exc(limit=1)}")
    if c.failures:
        print(f"FAIL: {len(c.failures)} of {c.count} checks:\n" + "\n".join(c.failures))
        return 1
    print(f"passed {c.count} checks")
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("parse", "eval"):
        print(__doc__)
        return 2
    repo = os.path.abspath(sys.argv[2])
    return run_parse(repo) if sys.argv[1] == "parse" else run_eval(repo)


if __name__ == "__main__":
    sys.exit(main())
