// How the Docker images that `services:` and `container:` name become Nix packages: a table of
// definitions, built in for the common images and extended by the admin (config `services` and
// `container` images, exec --service-images). The first definition whose pattern matches wins;
// the admin's come before the built-in ones.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nixjail::runner::engine {

// A service: what its jail's root holds, how it starts and when it is ready.
struct ServiceDefinition {
    // A glob over the image reference without its registry and "library/" ("postgres:15*",
    // "redis:*", "bitnami/redis:*"); an image without a tag is ":latest".
    std::string image;
    std::vector<std::string> packages;  // its root; bash and coreutils are always added
    // A bash script run in the service's jail, as its user, in /state (its own writable
    // directory, also HOME), with the service's env; it must end in the service's foreground
    // process (exec).
    std::string start;
    // A bash command run in the service's jail until it exits 0; empty: the first of `ports`
    // accepts a TCP connection on 127.0.0.1.
    std::string ready;
    std::vector<std::uint16_t> ports;         // the container ports it listens on
    std::map<std::string, std::string> env;   // defaults, under the service's own env
    std::string origin;                       // "built in", or where the admin defined it
};

// A job container: the packages its image stands for, added to the job's root.
struct ContainerDefinition {
    std::string image;  // a glob, as ServiceDefinition::image
    std::vector<std::string> packages;
    std::string origin;
};

struct ImageTable {
    std::vector<ServiceDefinition> services;
    std::vector<ContainerDefinition> containers;
};

// The built-in definitions: postgres (12 to 17, and any other tag), redis, mariadb, mysql,
// memcached; node, python, golang, rust, ubuntu and debian containers.
ImageTable builtinImages();

// `extra` (the admin's) ahead of `base`.
ImageTable withExtraImages(ImageTable base, const ImageTable& extra);

// "docker.io/library/postgres:15" -> "postgres:15"; "redis" -> "redis:latest"; a digest stays.
std::string normalizeImage(const std::string& image);

// The first matching definition, or null.
const ServiceDefinition* findService(const ImageTable& table, const std::string& image);
const ContainerDefinition* findContainer(const ImageTable& table, const std::string& image);

// The configuration snippet that would map an unmapped `image` (for its error message).
std::string serviceMappingSnippet(const std::string& image);
std::string containerMappingSnippet(const std::string& image);

}  // namespace nixjail::runner::engine
