# Evaluates nixos-module/options.nix (through lib_shim.nix) and nixos-module/render.nix for a
# few instance configurations and returns everything as one attrset; nixos_module_test.py runs
#   nix-instantiate --eval --strict --json tests/nixos/module_eval.nix
# and checks the result. Store paths are stand-ins: nothing is built or written to the store.
let
  lib = import ./lib_shim.nix;
  render = import ../../nixos-module/render.nix;

  fakeStore = name: "/nix/store/00000000000000000000000000000000-${name}";
  settingsFormat = {
    type = lib.types.anything;
  };
  options = import ../../nixos-module/options.nix {
    inherit lib settingsFormat;
    hostName = "testhost";
    defaultPackage = throw "the package default must not be needed when `package` is set";
    defaultNixpkgs = fakeStore "nixpkgs-source";
  };

  userConfig = {
    enable = true;
    package = fakeStore "nixjail-runner-0.1.0";
    instances = {
      # Everything set.
      ci = {
        url = "https://forge.example.com";
        tokenFile = "/run/secrets/forge-token";
        labels = [
          "nix"
          "nix-jit"
        ];
        capacity = 2;
        labelSettings = {
          nix.packages = [
            "bash"
            "coreutils"
          ];
          nix-jit = {
            packages = [ "nodejs" ];
            profile = "jit-runtime";
          };
        };
        policies = {
          nix = "/etc/nixjail/nix-policy.yaml";
          nix-jit = [
            {
              host = "registry.npmjs.org";
              methods = [ "GET" ];
              action = "allow";
            }
          ];
        };
        defaultPolicy = [
          {
            host = "*";
            action = "deny";
          }
        ];
        credentials = {
          npm = {
            file = "/run/secrets/npm-token";
            hosts = [ "registry.npmjs.org" ];
          };
          gh = {
            source = "env";
            env = "GH_TOKEN";
            hosts = [ "api.github.com" ];
            header = "Authorization: token {token}";
            dummy = "gh-dummy";
          };
        };
        environmentFiles = [ "/run/secrets/runner.env" ];
        executor.cpuQuota = "200%";
        executor.disk = "20G";
        metrics.address = "127.0.0.1:9464";
        settings = {
          runner.fetch_interval = "5s";
          executor.limits.memory = "8G";
          proxy.extra_ca_file = "/etc/ssl/corp-ca.pem";
        };
      };
      # Defaults only, plus a cache directory of its own; no token file.
      small = {
        url = "http://10.0.0.1:3000";
        name = "it's-small";
        cache.dir = "/srv/btrfs/nixjail";
      };
      # Every assertion should fire.
      broken = {
        capacity = 0;
        cache.dir = "/home/ci/cache";
        labels = [ ];
        credentials.bad = {
          source = "env";
          hosts = [ ];
          header = "X-Token: abc";
        };
        credentials.nofile.hosts = [ "example.com" ];
        metrics.address = "127.0.0.1:9464";
      };
      off = {
        enable = false;
        url = "https://forge.example.com";
      };
    };
  };

  cfg = lib.evalOptions "services.nixjail-runner" options userConfig;

  writePolicy = fileName: _document: fakeStore fileName;
  paths = name: {
    package = cfg.package;
    nix = fakeStore "nix-2.24";
    git = fakeStore "git-2.47";
    systemd = fakeStore "systemd-257";
    configFile = fakeStore "nixjail-runner-${name}.yaml";
    registerScript = fakeStore "nixjail-runner-${name}-register";
  };

  renderInstance = name: inst: {
    options = inst;
    settings = render.settingsFor name inst writePolicy;
    registerScript = render.registerScript name inst cfg.package;
    service = render.serviceFor name inst (paths name);
    tmpfilesRules = render.tmpfilesRules name inst;
    assertions = render.assertionsFor name inst;
    policyDocuments = builtins.mapAttrs (
      _: p: if builtins.isList p then render.policyDocument p else null
    ) inst.policies;
  };

  enabled = builtins.removeAttrs cfg.instances (
    builtins.filter (n: !cfg.instances.${n}.enable) (builtins.attrNames cfg.instances)
  );

  # Options are declared with a type, a description, and (except a few required ones) a default.
  undocumented = map (o: o.path) (
    builtins.filter (
      o: !(o.option ? description) || !(o.option ? type)
    ) (lib.allOptions options)
  );

  # Type errors are reported with the option's path.
  typeError =
    builtins.tryEval
      (lib.evalOptions "services.nixjail-runner" options {
        instances.x.capacity = "two";
      }).instances.x.capacity;
  unknownOption =
    let
      v =
        (lib.evalOptions "services.nixjail-runner" options {
          instances.x.lables = [ ];
        }).instances;
    in
    builtins.tryEval (builtins.deepSeq v v);
in
{
  instances = builtins.mapAttrs renderInstance cfg.instances;
  enabledInstances = builtins.attrNames enabled;
  globalAssertions = render.globalAssertions enabled;
  hardening = render.hardening;
  inherit undocumented;
  optionPaths = map (o: o.path) (lib.allOptions options);
  typeErrorCaught = !typeError.success;
  unknownOptionCaught = !unknownOption.success;
}
