# The quick start's package set. A fresh Debian machine has Nix but no nixpkgs and no network, so
# these "packages" are the host's own binaries copied into the Nix store with the libraries they
# need (see tests/fixtures/nix). Jobs still see only the closure of what they declare. It has every
# attribute of the default set that jobs declaring no packages get (`runs-on: ubuntu-latest`;
# tests/fixtures/nix-ubuntu-base), so `NIX_PATH=nixpkgs=$PWD/examples/nix nixjail-runner exec` runs
# an ordinary workflow. With a real nixpkgs, use it instead (NIX_PATH or --nixpkgs).
import ../../tests/fixtures/nix-ubuntu-base {
  extraBins = {
    coreutils = map (b: "/usr/bin/${b}") [
      "ls" "cat" "echo" "env" "mkdir" "id" "date" "basename" "dirname" "head" "tail" "sort" "uniq"
      "tr" "wc" "true" "false" "sleep" "rm" "cp" "mv" "touch" "uname" "pwd" "test" "printf" "mktemp"
      "sha256sum" "seq" "cut" "tee" "chmod" "ln" "readlink" "realpath" "stat" "whoami" "base64"
      "mkfifo"
    ];
    # JavaScript actions: the runner adds this package (RunOptions::node_package, "nodejs") to the
    # root of a job that uses one. A self-contained node: the official build that .ci/install-deps
    # puts in /usr/local/bin where the machine's is older than 20, else the machine's (Debian 12's
    # own node 18 loads builtins from /usr/share/nodejs, which a jail's root does not hold).
    nodejs = [ (if builtins.pathExists /usr/local/bin/node then "/usr/local/bin/node" else "/usr/bin/node") ];
  };
}
