# NixOS module: services.nixjail-runner, one systemd service `nixjail-runner-<name>` per
# instance. The options are in options.nix, the unit and the daemon's YAML are computed by the
# pure functions in render.nix (tested offline by tests/nixos), the sandbox is hardening.nix.
#
# Prerequisites on the host:
# - cgroup v2 (NixOS's default) and systemd >= 254 for DelegateSubgroup=; each job gets a cgroup
#   in the unit's delegated subtree with memory, pids and cpu limits.
# - unprivileged user namespaces need not be enabled (the daemon is root), but
#   security.allowUserNamespaces must stay true (the default).
# - the cache directory (/var/cache/nixjail-runner/<name> or cache.dir) on btrfs: job roots and
#   workspaces are then subvolume snapshots (O(1)); on XFS/bcachefs reflinks, elsewhere copies
#   (cache.storage = "auto" picks the best that works and logs a warning when it falls back).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.nixjail-runner;
  render = import ./render.nix;
  settingsFormat = pkgs.formats.yaml { };

  enabledInstances = lib.filterAttrs (_: inst: inst.enable) cfg.instances;

  writePolicy = fileName: document: settingsFormat.generate fileName document;

  serviceOf =
    name: inst:
    render.serviceFor name inst {
      package = cfg.package;
      nix = config.nix.package;
      git = pkgs.git;
      systemd = config.systemd.package;
      configFile = settingsFormat.generate "nixjail-runner-${name}.yaml" (
        render.settingsFor name inst writePolicy
      );
      registerScript = pkgs.writeShellScript "nixjail-runner-${name}-register" (
        render.registerScript name inst cfg.package
      );
    };
in
{
  options.services.nixjail-runner = import ./options.nix {
    inherit lib settingsFormat;
    hostName = config.networking.hostName;
    defaultPackage = pkgs.callPackage ../package.nix { };
    defaultNixpkgs = pkgs.path;
  };

  config = lib.mkIf cfg.enable {
    assertions =
      lib.concatLists (lib.mapAttrsToList render.assertionsFor enabledInstances)
      ++ render.globalAssertions enabledInstances
      ++ [
        {
          assertion = enabledInstances == { } || config.nix.enable;
          message = "services.nixjail-runner builds job roots through the nix-daemon; it needs nix.enable = true";
        }
      ];

    systemd.services = lib.mapAttrs' (
      name: inst: lib.nameValuePair (render.unitName name) (serviceOf name inst)
    ) enabledInstances;

    users = render.stepAccount enabledInstances;

    systemd.tmpfiles.rules = lib.concatLists (lib.mapAttrsToList render.tmpfilesRules enabledInstances);

    environment.systemPackages = [ cfg.package ];
  };
}
