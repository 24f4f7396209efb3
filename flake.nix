{
  description = "nixjail-runner: Forgejo/Gitea Actions runner with Nix-built job jails";

  # No flake.lock is committed: it cannot be generated offline. The first `nix build`,
  # `nix develop` or `nix flake lock` on a machine with network access writes one.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        nixjail-runner = pkgs.callPackage ./package.nix { };
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.nixjail-runner;
      });

      overlays.default = final: _prev: { nixjail-runner = final.callPackage ./package.nix { }; };

      # The module's own default package is `pkgs.callPackage ./package.nix { }`; through the
      # flake, the flake's build of it is the default instead.
      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nixos-module ];
          services.nixjail-runner.package =
            lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };
      nixosModules.nixjail-runner = self.nixosModules.default;

      # Everything .ci/install-deps installs on Debian: the build inputs plus the real programs the
      # tests drive.
      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.default ];
          packages = with pkgs; [
            gbenchmark
            clang
            clang-tools
            ccache
            python3
            curl
            iproute2
            nix
            btrfs-progs
            patchelf
            nginx
            fcgiwrap
            bubblewrap
            util-linux
            procps
            nodejs
          ];
        };
      });

      checks = forAllSystems (pkgs: {
        package = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      });
    };
}
