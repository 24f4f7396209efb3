# The quick start's package set. A fresh Debian machine has Nix but no nixpkgs and no network, so
# these "packages" are the host's own binaries copied into the Nix store with the libraries they
# need (see tests/fixtures/nix). Jobs still see only the closure of what they declare. With a real
# nixpkgs, pass `--nixpkgs /path/to/nixpkgs` instead and use its attribute names.
import ../../tests/fixtures/nix {
  extraBins = {
    coreutils = map (b: "/usr/bin/${b}") [
      "ls" "cat" "echo" "env" "mkdir" "id" "date" "basename" "dirname" "head" "tail" "sort"
      "tr" "wc" "true" "false" "sleep" "rm" "cp" "mv" "touch" "uname" "pwd" "test" "printf"
      "sha256sum" "seq" "cut" "tee" "chmod" "ln" "readlink" "realpath" "stat" "whoami" "base64"
      "mkfifo"
    ];
    gnugrep = [ "/usr/bin/grep" ];
    gnused = [ "/usr/bin/sed" ];
    # JavaScript actions: the runner adds this package (RunOptions::node_package, "nodejs") to the
    # root of a job that uses one. Debian's node links only libc, libstdc++ and friends.
    nodejs = [ "/usr/bin/node" ];
  };
}
