# Evaluates package.nix and flake.nix with stand-ins for nixpkgs (no nixpkgs offline): which
# inputs, flags and wrapper the derivation gets, what its source filter drops, and which outputs
# the flake has for which systems. Nothing is built.
let
  fakeStore = name: "/nix/store/00000000000000000000000000000000-${name}";
  pkg = name: {
    inherit name;
    outPath = fakeStore name;
    # A package's static libraries (glibc.static), as nixpkgs names that output.
    static = {
      name = "${name}-static";
      outPath = fakeStore "${name}-static";
    };
  };
  lib = {
    cleanSourceWith = args: args;
    # nixpkgs' cleanSourceFilter drops VCS directories, editor backups and result links; the
    # stand-in drops .git only, which is enough for the paths below.
    cleanSourceFilter = path: type: baseNameOf path != ".git";
    hasPrefix = prefix: s: builtins.substring 0 (builtins.stringLength prefix) s == prefix;
    makeBinPath = ps: builtins.concatStringsSep ":" (map (p: "${p}/bin") ps);
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    mkDefault = value: { _type = "override"; priority = 1000; content = value; };
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
  };
  args = builtins.mapAttrs (n: _: pkg n) (builtins.functionArgs (import ../../package.nix));
  drv = import ../../package.nix (
    args
    // {
      inherit lib;
      stdenv.mkDerivation = attrs: attrs;
    }
  );
  keep = builtins.mapAttrs (path: type: drv.src.filter "/repo/${path}" type) {
    "build" = "directory";
    "build-asan" = "directory";
    ".git" = "directory";
    "result" = "symlink";
    "runner" = "directory";
    "CMakeLists.txt" = "regular";
    "nixos-module" = "directory";
  };

  # The flake with a nixpkgs whose callPackage and mkShell return their arguments.
  legacyPackages =
    system:
    builtins.mapAttrs (n: _: pkg n) (builtins.functionArgs (import ../../package.nix))
    // {
      stdenv.hostPlatform.system = system;
      callPackage = path: _extra: {
        callPackageOf = baseNameOf path;
        inherit system;
      };
      mkShell = shellArgs: { mkShell = shellArgs; };
    };
  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] legacyPackages;
  };
  flake = import ../../flake.nix;
  outputs = flake.outputs {
    self = outputs;
    inherit nixpkgs;
  };
  moduleFor =
    system:
    outputs.nixosModules.default {
      inherit lib;
      pkgs = legacyPackages system;
    };
in
{
  package = {
    inherit (drv) pname version cmakeFlags doCheck postInstall;
    nativeBuildInputs = map (p: p.name) drv.nativeBuildInputs;
    buildInputs = map (p: p.name) drv.buildInputs;
    mainProgram = drv.meta.mainProgram;
    platforms = drv.meta.platforms;
    srcKeeps = keep;
  };
  flake = {
    inputs = flake.inputs;
    outputNames = builtins.attrNames outputs;
    packageSystems = builtins.attrNames outputs.packages;
    defaultPackage = outputs.packages.x86_64-linux.default;
    aarch64Package = outputs.packages.aarch64-linux.nixjail-runner;
    devShellSystems = builtins.attrNames outputs.devShells;
    devShellInputsFrom = outputs.devShells.x86_64-linux.default.mkShell.inputsFrom;
    overlay = (outputs.overlays.default (legacyPackages "x86_64-linux") { }).nixjail-runner;
    moduleImports = map baseNameOf (moduleFor "aarch64-linux").imports;
    modulePackage = (moduleFor "aarch64-linux").services.nixjail-runner.package;
  };
}
