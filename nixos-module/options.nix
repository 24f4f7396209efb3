# The option tree of services.nixjail-runner. Uses only mkOption, mkEnableOption,
# literalExpression and types.{bool,str,int,path,enum,listOf,attrsOf,submodule,nullOr,either,
# package} from lib, and pkgs.formats.yaml's type, so tests/nixos can evaluate it with a small
# lib shim.
{
  lib,
  settingsFormat, # pkgs.formats.yaml { }
  hostName, # config.networking.hostName
  defaultPackage, # a thunk's worth: only forced when `package` is not set
  defaultNixpkgs, # pkgs.path
}:
let
  inherit (lib) mkOption types literalExpression;

  sizeType = types.str; # "10G", "512M", "1024" (checked by the daemon at start)
  durationType = types.str; # "2s", "500ms", "3m", "3h"

  # A network policy: a path to a policy file, or the rules inline (a list of
  # { host | host_regex, path?, methods?, action }), written to the store as YAML.
  policyType = types.either types.path (types.listOf settingsFormat.type);

  credentialModule =
    { name, ... }:
    {
      options = {
        source = mkOption {
          type = types.enum [
            "file"
            "env"
          ];
          default = "file";
          description = ''
            Where the real token comes from: `file` (read by systemd with LoadCredential=, so the
            file may be readable by root only) or `env` (a variable from `environmentFiles`).
          '';
        };
        file = mkOption {
          type = types.nullOr types.path;
          default = null;
          example = "/run/secrets/npm-token";
          description = "The token file for `source = \"file\"`. Give a string, not a Nix path literal (that would copy the secret into the store).";
        };
        env = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "NPM_TOKEN";
          description = "The environment variable holding the token, for `source = \"env\"`.";
        };
        hosts = mkOption {
          type = types.listOf types.str;
          example = [ "registry.npmjs.org" ];
          description = "Hosts whose requests get the credential injected by the job's proxy.";
        };
        header = mkOption {
          type = types.str;
          default = "Authorization: Bearer {token}";
          description = "The header the proxy adds; `{token}` is replaced by the real token.";
        };
        dummy = mkOption {
          type = types.nullOr types.str;
          default = "nixjail-${name}-dummy";
          description = "What the job sees instead of the token (null: the daemon's default).";
        };
      };
    };

  labelModule = {
    options = {
      packages = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [
          "bash"
          "coreutils"
          "git"
        ];
        description = "nixpkgs attributes every job with this label gets in its root.";
      };
      profile = mkOption {
        type = types.enum [
          "default"
          "strict"
          "jit-runtime"
        ];
        default = "default";
        description = "The jail's hardening profile: `default` lets JIT runtimes (node, the JVM) work; `strict` also forbids writable+executable memory (node then runs `--jitless`, without WebAssembly). `jit-runtime` is the old name of `default`.";
      };
    };
  };

  instanceModule =
    { name, ... }:
    {
      options = {
        enable = mkOption {
          type = types.bool;
          default = true;
          description = "Whether to run this instance.";
        };
        url = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "https://forge.example.com";
          description = "The Forgejo or Gitea instance.";
        };
        tokenFile = mkOption {
          type = types.nullOr types.path;
          default = null;
          example = "/run/secrets/forgejo-runner-token";
          description = ''
            A file holding the runner registration token (from the forge's Actions settings). It
            is read only at a start where the state directory has no runner file yet. Give a
            string, not a Nix path literal.
          '';
        };
        name = mkOption {
          type = types.str;
          default = "${hostName}-${name}";
          defaultText = literalExpression ''"''${config.networking.hostName}-<instance>"'';
          description = "The runner's name on the forge.";
        };
        labels = mkOption {
          type = types.listOf types.str;
          default = [ "nix" ];
          description = "Labels jobs select with `runs-on`.";
        };
        capacity = mkOption {
          type = types.int;
          default = 1;
          description = "Jobs run at the same time.";
        };
        labelSettings = mkOption {
          type = types.attrsOf (types.submodule labelModule);
          default = { };
          example = literalExpression ''{ nix.packages = [ "bash" "coreutils" "git" "nodejs" ]; }'';
          description = "Per label: packages every job gets and the hardening profile.";
        };
        policies = mkOption {
          type = types.attrsOf policyType;
          default = { };
          example = literalExpression ''
            {
              nix = [
                { host = "registry.npmjs.org"; methods = [ "GET" ]; action = "allow"; }
                { host = "*.github.com"; action = "allow"; }
              ];
            }
          '';
          description = "Per label: the network policy of its jobs (a file, or the rules inline).";
        };
        defaultPolicy = mkOption {
          type = types.nullOr policyType;
          default = null;
          description = "The network policy for jobs whose label has none in `policies`.";
        };
        credentials = mkOption {
          type = types.attrsOf (types.submodule credentialModule);
          default = { };
          description = "Tokens the job's proxy injects; jobs only ever see the dummy.";
        };
        environmentFiles = mkOption {
          type = types.listOf types.path;
          default = [ ];
          description = "EnvironmentFile= entries of the service, for `source = \"env\"` credentials.";
        };
        cache = {
          dir = mkOption {
            type = types.str;
            default = "/var/cache/nixjail-runner/${name}";
            description = "Job roots, git mirrors, checkouts and workspaces. Put it on btrfs.";
          };
          storage = mkOption {
            type = types.enum [
              "auto"
              "btrfs"
              "reflink"
              "copy"
            ];
            default = "auto";
            description = "How trees are cloned: btrfs snapshots, reflinks, or plain copies.";
          };
          gitBudget = mkOption {
            type = sizeType;
            default = "10G";
            description = "Size limit of the git mirrors.";
          };
          workspaceBudget = mkOption {
            type = sizeType;
            default = "20G";
            description = "Size limit of cached checkouts and workspaces.";
          };
          rootsBudget = mkOption {
            type = sizeType;
            default = "20G";
            description = "Size limit of the cached job roots.";
          };
          actionsCacheBudget = mkOption {
            type = sizeType;
            default = "10G";
            description = "Size limit of the actions/cache server's entries (ACTIONS_CACHE_URL); \"0\" runs no server.";
          };
        };
        nixpkgs = mkOption {
          type = types.either types.path types.str;
          default = defaultNixpkgs;
          defaultText = literalExpression "pkgs.path";
          description = "The nixpkgs that job package names resolve in.";
        };
        executor = {
          backend = mkOption {
            type = types.enum [
              "auto"
              "namespace"
              "systemd"
              "host"
            ];
            default = "auto";
            description = ''
              The jail implementation: `namespace` (built in; jobs are the daemon's descendants and
              inherit the service's seccomp-based settings), `systemd` (each step a transient
              unit of PID 1, started with systemd-run), `auto`, or `host` (no isolation).
            '';
          };
          memory = mkOption {
            type = sizeType;
            default = "4G";
            description = "Memory limit of each job.";
          };
          pids = mkOption {
            type = types.int;
            default = 4096;
            description = "Process limit of each job.";
          };
          cpuQuota = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "200%";
            description = "CPU limit of each job (200% = two CPUs); null: unlimited.";
          };
          disk = mkOption {
            type = types.nullOr sizeType;
            default = null;
            example = "20G";
            description = ''
              Disk quota of each job: its workspace, home and temp directories live on a volume of
              this size (a sparse ext4 image on a loop device, so checkouts into it are copies).
              Setting it gives the service the loop devices (no PrivateDevices). null: no quota.
            '';
          };
        };
        logLevel = mkOption {
          type = types.enum [
            "trace"
            "debug"
            "info"
            "warn"
            "error"
          ];
          default = "info";
          description = "The daemon's log level.";
        };
        jobTimeout = mkOption {
          type = durationType;
          default = "3h";
          description = "A job running longer is cancelled.";
        };
        shutdownTimeout = mkOption {
          type = durationType;
          default = "3m";
          description = "How long running jobs may finish when the service stops (TimeoutStopSec is 30 s more; then systemd kills what is left).";
        };
        metrics.address = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "127.0.0.1:9464";
          description = "host:port of the Prometheus metrics endpoint; null: off. Each instance needs its own.";
        };
        settings = mkOption {
          type = settingsFormat.type;
          default = { };
          example = literalExpression ''{ runner.fetch_interval = "5s"; proxy.extra_ca_file = "/etc/ssl/corp-ca.pem"; }'';
          description = ''
            Free-form daemon configuration, merged key by key over what the typed options
            generate (see `nixjail-runner generate-config` for every key).
          '';
        };
      };
    };
in
{
  enable = lib.mkEnableOption "nixjail-runner, a Forgejo/Gitea Actions runner with Nix-built job jails";
  package = mkOption {
    type = types.package;
    default = defaultPackage;
    defaultText = literalExpression "pkgs.callPackage ./package.nix { }";
    description = "The nixjail-runner package.";
  };
  instances = mkOption {
    type = types.attrsOf (types.submodule instanceModule);
    default = { };
    description = "Runners on this host, one systemd service `nixjail-runner-<name>` each.";
  };
}
