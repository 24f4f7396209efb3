# Evaluates nixos-module/default.nix itself, the NixOS glue, with lib_shim.nix as `lib`, a `pkgs`
# of stand-ins (formats.yaml, writeShellScript, git, path, callPackage) and a `config` holding
# only what the module reads. Checks the wiring: option tree → render.nix → systemd.services,
# assertions and tmpfiles; not NixOS's module system itself.
let
  lib = import ./lib_shim.nix;
  fakeStore = name: "/nix/store/00000000000000000000000000000000-${name}";
  pkgs = {
    formats.yaml = { }: {
      type = lib.types.anything;
      # Store paths become strings in the unit; the stand-in carries the file's content after
      # a '#' so that the test can read it back from ExecStart.
      generate = name: value: "${fakeStore name}#${builtins.toJSON value}";
    };
    writeShellScript = name: text: "${fakeStore name}#${text}";
    git = fakeStore "git";
    path = fakeStore "nixpkgs-source";
    callPackage = _: _: throw "the default package must not be built when `package` is set";
  };
  config = {
    networking.hostName = "gluehost";
    nix = {
      enable = true;
      package = fakeStore "nix";
    };
    systemd.package = fakeStore "systemd";
    services.nixjail-runner = lib.evalOptions "services.nixjail-runner" module.options.services.nixjail-runner {
      enable = true;
      package = fakeStore "nixjail-runner";
      instances.main = {
        url = "https://forge.example.com";
        tokenFile = "/run/secrets/token";
        policies.nix = [
          {
            host = "example.com";
            action = "allow";
          }
        ];
        cache.dir = "/srv/cache";
      };
      instances.off = {
        enable = false;
        url = "https://forge.example.com";
      };
    };
  };
  module = import ../../nixos-module/default.nix {
    inherit config lib pkgs;
  };
  body = module.config;
in
{
  isConditional = body._type == "if";
  condition = body.condition;
  units = builtins.attrNames body.content.systemd.services;
  service = body.content.systemd.services.nixjail-runner-main;
  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) body.content.assertions);
  assertionCount = builtins.length body.content.assertions;
  tmpfiles = body.content.systemd.tmpfiles.rules;
  systemPackages = body.content.environment.systemPackages;
  users = body.content.users;
}
