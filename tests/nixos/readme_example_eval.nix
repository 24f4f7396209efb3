# Evaluates the NixOS example of README.md (extracted by nixos_module_test.py into `example`, a
# module function of `{ ... }`) against the option tree and renders every instance, so the
# README cannot drift from the module.
{ example }:
let
  lib = import ./lib_shim.nix;
  render = import ../../nixos-module/render.nix;
  fakeStore = name: "/nix/store/00000000000000000000000000000000-${name}";
  options = import ../../nixos-module/options.nix {
    inherit lib;
    settingsFormat.type = lib.types.anything;
    hostName = "readme";
    defaultPackage = fakeStore "nixjail-runner-0.1.0";
    defaultNixpkgs = fakeStore "nixpkgs-source";
  };
  module = (import example) { };
  cfg = lib.evalOptions "services.nixjail-runner" options module.services.nixjail-runner;
  writePolicy = fileName: _document: fakeStore fileName;
in
{
  enable = cfg.enable;
  failedAssertions =
    builtins.concatMap (
      name: builtins.filter (a: !a.assertion) (render.assertionsFor name cfg.instances.${name})
    ) (builtins.attrNames cfg.instances)
    ++ builtins.filter (a: !a.assertion) (render.globalAssertions cfg.instances);
  instances = builtins.mapAttrs (name: inst: {
    settings = render.settingsFor name inst writePolicy;
    service = render.serviceFor name inst {
      package = cfg.package;
      nix = fakeStore "nix";
      git = fakeStore "git";
      systemd = fakeStore "systemd";
      configFile = fakeStore "nixjail-runner-${name}.yaml";
      registerScript = fakeStore "nixjail-runner-${name}-register";
    };
  }) cfg.instances;
}
