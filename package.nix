# nixjail-runner for nixpkgs (callPackage style):
#   nix-build -E 'with import <nixpkgs> {}; callPackage ./package.nix {}'
# The build inputs are the Debian packages of .ci/install-deps under their nixpkgs names.
{
  lib,
  stdenv,
  cmake,
  ninja,
  pkg-config,
  makeWrapper,
  # libraries (Debian: nlohmann-json3-dev libgit2-dev libsqlite3-dev libssl-dev libspdlog-dev
  # libyaml-cpp-dev libgtest-dev libgmock-dev libcurl4-openssl-dev libcli11-dev libseccomp-dev
  # libasio-dev)
  nlohmann_json,
  libgit2,
  sqlite,
  openssl,
  spdlog,
  yaml-cpp,
  gtest,
  curl,
  cli11,
  libseccomp,
  asio,
  # nixjail-jail-check, the jail's self-check, is linked statically (it runs in job roots that
  # hold only the job's packages)
  glibc,
  # programs the runner starts at run time
  nix,
  git,
}:

stdenv.mkDerivation {
  pname = "nixjail-runner";
  version = "0.1.0";

  # The repository without build directories and VCS data.
  src = lib.cleanSourceWith {
    src = ./.;
    filter =
      path: type:
      let
        base = baseNameOf path;
      in
      lib.cleanSourceFilter path type
      && !(type == "directory" && (lib.hasPrefix "build" base || base == "node_modules"))
      && base != "result";
  };

  nativeBuildInputs = [
    cmake
    ninja
    pkg-config
    makeWrapper
  ];

  buildInputs = [
    nlohmann_json
    libgit2
    sqlite
    openssl
    spdlog
    yaml-cpp
    gtest # the top-level CMakeLists.txt finds GTest unconditionally (test binaries are built)
    curl
    cli11
    libseccomp
    asio
    glibc.static
  ];

  cmakeFlags = [
    "-DNIXJAIL_BENCH=OFF" # google-benchmark is only needed for bench/
    "-DNIXJAIL_WERROR=OFF" # newer compilers than Debian 12's g++ 12 may add warnings
  ];

  # The test suite needs root, a writable Nix store, python3, nginx, fcgiwrap and network
  # namespaces; none of that exists in the Nix build sandbox. Run .ci/test (or ctest inside
  # `nix develop`) instead.
  doCheck = false;

  # The runner starts `nix-build`/`nix-store` (job roots) and `git` (actions, working trees). They
  # are appended to PATH, so a PATH that already has them (the NixOS module puts the system's
  # configured Nix first) wins.
  postInstall = ''
    wrapProgram $out/bin/nixjail-runner \
      --suffix PATH : ${
        lib.makeBinPath [
          nix
          git
        ]
      }
  '';

  meta = {
    description = "Self-hosted Forgejo/Gitea Actions runner: every job in a jail built from the Nix packages it declares, behind a policy-enforcing proxy";
    # No license has been chosen for the project yet; set meta.license when it has one.
    platforms = lib.platforms.linux;
    mainProgram = "nixjail-runner";
  };
}
