// Nix closures: a generic graph walk over store-path references, a store-backed edge source
// (nix-store), a map-backed fake, the closure key, and package name resolution.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nixjail::cache {

// Supplies the edges of the reference graph: the store paths `path` refers to directly.
class ReferenceSource {
  public:
    virtual ~ReferenceSource() = default;
    virtual std::vector<std::string> references(const std::string& path) = 0;
};

// Every path reachable from `roots` (the roots included), sorted and without duplicates.
std::vector<std::string> computeClosure(const std::vector<std::string>& roots,
                                        ReferenceSource& source);

// A stable key for a closure: hex SHA-256 of the sorted, de-duplicated paths, one per line.
std::string closureKey(std::vector<std::string> paths);

// For tests: edges from a map; a path missing from the map has no references.
class MapReferenceSource final : public ReferenceSource {
  public:
    explicit MapReferenceSource(std::map<std::string, std::vector<std::string>> edges)
        : edges_(std::move(edges)) {}
    std::vector<std::string> references(const std::string& path) override;
    int queries() const { return queries_; }

  private:
    std::map<std::string, std::vector<std::string>> edges_;
    int queries_ = 0;
};

// How to call the Nix command-line tools.
struct NixTools {
    std::filesystem::path bin_dir;  // empty: look them up in PATH
    std::vector<std::string> env;   // extra KEY=VALUE for the tools, e.g. NIX_CONFIG
};

// Edges from the local Nix store (`nix-store -q --graph`, one query per uncached path; the
// answer covers its whole closure), memoised per path.
class NixStoreReferenceSource final : public ReferenceSource {
  public:
    explicit NixStoreReferenceSource(NixTools tools) : tools_(std::move(tools)) {}
    std::vector<std::string> references(const std::string& path) override;
    // Learns the edges of the closures of all of `roots` not known yet in one query, so that a walk
    // from them asks the store nothing more.
    void prefetch(const std::vector<std::string>& roots);
    // The whole closure in one call (`nix-store -qR`), for when the walk itself is not needed.
    std::vector<std::string> closureOf(const std::vector<std::string>& roots);
    // The sum of the paths' NAR sizes (`nix-store -q --size`, one call for the paths not asked
    // about before; store paths are immutable, so the answers are remembered).
    uint64_t totalSize(const std::vector<std::string>& paths);

  private:
    // Queries the graph of `paths`' closures and remembers every edge in it.
    void learnGraph(const std::vector<std::string>& paths);

    NixTools tools_;
    std::mutex mutex_;
    std::map<std::string, std::vector<std::string>> memo_;
    std::map<std::string, uint64_t> sizes_;
};

// Parses a package list as written in runner config, a job's NIXJAIL_PACKAGES variable or a
// repository's package file: names separated by whitespace or commas, `#` starts a comment.
// Duplicates are dropped, order kept. Throws one error naming every invalid entry.
std::vector<std::string> parsePackageList(std::string_view text);

// Resolves package attribute names (e.g. "bash", "python3Packages.requests") against a nixpkgs
// expression to realised store paths with one `nix-build` per call. It remembers nothing: what
// may be remembered depends on the nixpkgs, which the caller knows (closure_memo.h).
class PackageResolver {
  public:
    PackageResolver(std::filesystem::path nixpkgs, NixTools tools)
        : nixpkgs_(std::move(nixpkgs)), tools_(std::move(tools)) {}
    // Store paths in the order of `names`; throws naming the package when nix-build fails.
    std::vector<std::string> resolvePackages(const std::vector<std::string>& names) const;

  private:
    std::filesystem::path nixpkgs_;
    NixTools tools_;
};

// The packages of a repository's flake devShell (`devShells.<system>.default`): the store paths
// of its packages/nativeBuildInputs/buildInputs and their propagated variants, built with
// nix-store -r. Needs Nix with flakes (enabled per call). A git work tree is read as
// `git+file:` (tracked files only, so build output is not copied to the store), anything else as
// `path:`. Answers are remembered per flake directory for the resolver's lifetime.
class DevShellResolver {
  public:
    explicit DevShellResolver(NixTools tools) : tools_(std::move(tools)) {}
    // Throws base::Error naming the flake and Nix's complaint (no devShell, evaluation error).
    std::vector<std::string> resolve(const std::filesystem::path& flake_dir, const std::string& system);
    // As above, but the answer is remembered under `key` (something that names the flake's
    // content, e.g. a repository URL and commit) instead of the directory, which may be a
    // temporary checkout.
    std::vector<std::string> resolve(const std::filesystem::path& flake_dir,
                                     const std::string& system, const std::string& key);
    // The answer remembered under `key` (or a directory) for `system`, if any.
    std::optional<std::vector<std::string>> remembered(const std::string& key,
                                                       const std::string& system);
    // "x86_64-linux" for the machine this runs on.
    static std::string currentSystem();

  private:
    NixTools tools_;
    std::mutex mutex_;
    std::map<std::string, std::vector<std::string>> resolved_;
};

}  // namespace nixjail::cache
