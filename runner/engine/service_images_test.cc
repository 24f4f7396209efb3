// The image table: how `services:` and `container:` images are normalised and matched to Nix
// definitions, and the configuration snippet an unmapped image's error shows.
#include "runner/engine/service_images.h"

#include <gtest/gtest.h>

#include "runner/config/runner_config.h"

namespace nixjail::runner::engine {
namespace {

using Packages = std::vector<std::string>;

TEST(ServiceImagesNormalize, DropsTheRegistryAndLibraryAndAddsLatest) {
    EXPECT_EQ(normalizeImage("docker.io/library/postgres:15"), "postgres:15");
    EXPECT_EQ(normalizeImage("library/postgres:15"), "postgres:15");
    EXPECT_EQ(normalizeImage("postgres"), "postgres:latest");
    EXPECT_EQ(normalizeImage("ghcr.io/acme/x:1"), "acme/x:1");
    EXPECT_EQ(normalizeImage("localhost:5000/x"), "x:latest");
    EXPECT_EQ(normalizeImage("localhost/x:2"), "x:2");
    EXPECT_EQ(normalizeImage("bitnami/redis"), "bitnami/redis:latest");
}

TEST(ServiceImagesNormalize, KeepsADigestAsWritten) {
    const std::string digest =
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    EXPECT_EQ(normalizeImage("postgres@" + digest), "postgres@" + digest);
    EXPECT_EQ(normalizeImage("docker.io/library/postgres:15@" + digest), "postgres:15@" + digest);
}

TEST(ServiceImagesNormalize, ARegistryPortIsNotATag) {
    // The colon of "registry:5000" must not count as the tag of "x".
    EXPECT_EQ(normalizeImage("registry.example:5000/team/x"), "team/x:latest");
}

const ImageTable& builtin() {
    static const ImageTable table = builtinImages();
    return table;
}

Packages servicePackages(const std::string& image) {
    const ServiceDefinition* d = findService(builtin(), image);
    EXPECT_NE(d, nullptr) << image;
    return d ? d->packages : Packages{"<none>"};
}

TEST(ServiceImagesFind, PostgresMajorsMapToTheirOwnPackage) {
    EXPECT_EQ(servicePackages("postgres:15"), Packages{"postgresql_15"});
    EXPECT_EQ(servicePackages("postgres:16-alpine"), Packages{"postgresql_16"});
    EXPECT_EQ(servicePackages("postgres:12.19-bookworm"), Packages{"postgresql_12"});
    EXPECT_EQ(servicePackages("postgres:17"), Packages{"postgresql_17"});
    EXPECT_EQ(servicePackages("docker.io/library/postgres:14"), Packages{"postgresql_14"});
}

TEST(ServiceImagesFind, OtherPostgresTagsGetTheDefaultPostgresql) {
    EXPECT_EQ(servicePackages("postgres:latest"), Packages{"postgresql"});
    EXPECT_EQ(servicePackages("postgres"), Packages{"postgresql"});
    EXPECT_EQ(servicePackages("postgres:alpine"), Packages{"postgresql"});
}

TEST(ServiceImagesFind, PostgresDefinitionHonoursTheOfficialImagesVariables) {
    const ServiceDefinition* d = findService(builtin(), "postgres:15");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->ports, std::vector<std::uint16_t>{5432});
    EXPECT_EQ(d->origin, "built in");
    for (const char* var : {"POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB",
                            "POSTGRES_HOST_AUTH_METHOD", "POSTGRES_INITDB_ARGS"}) {
        EXPECT_NE(d->start.find(var), std::string::npos) << var;
    }
    EXPECT_NE(d->start.find("exec postgres"), std::string::npos)
        << "the server must be the script's last process";
    EXPECT_NE(d->ready.find("pg_isready"), std::string::npos);
    EXPECT_EQ(d->env.at("PGHOST"), "/state/run");
}

TEST(ServiceImagesFind, RedisAnyTagMapsToRedis) {
    EXPECT_EQ(servicePackages("redis:7-alpine"), Packages{"redis"});
    EXPECT_EQ(servicePackages("redis"), Packages{"redis"});
    EXPECT_EQ(servicePackages("redis/redis-stack-server:7.2.0-v6"), Packages{"redis"});
    const ServiceDefinition* d = findService(builtin(), "redis:7");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->ports, std::vector<std::uint16_t>{6379});
    EXPECT_NE(d->start.find("exec redis-server"), std::string::npos);
}

TEST(ServiceImagesFind, ADigestIsMatchedByItsNameAndTag) {
    const ImageTable t = builtinImages();
    const ServiceDefinition* pinned = findService(t, "postgres@sha256:0123456789abcdef");
    ASSERT_NE(pinned, nullptr);
    EXPECT_EQ(pinned->packages, Packages{"postgresql"});
    const ServiceDefinition* tagged = findService(t, "postgres:16@sha256:0123456789abcdef");
    ASSERT_NE(tagged, nullptr);
    EXPECT_EQ(tagged->packages, Packages{"postgresql_16"});
}

TEST(ServiceImagesFind, APatternWithoutATagMatchesEveryTag) {
    ImageTable admin;
    admin.services.push_back({.image = "acme/queue", .packages = {"acme-queue"}, .start = "exec q", .ports = {1}});
    const ImageTable t = withExtraImages(builtinImages(), admin);
    for (const char* image : {"acme/queue", "acme/queue:2", "ghcr.io/acme/queue:2-slim"}) {
        const ServiceDefinition* d = findService(t, image);
        ASSERT_NE(d, nullptr) << image;
        EXPECT_EQ(d->packages, Packages{"acme-queue"}) << image;
    }
}

TEST(ServiceImagesFind, UnmappedImagesAreNull) {
    EXPECT_EQ(findService(builtin(), "rabbitmq:3"), nullptr);
    EXPECT_EQ(findService(builtin(), "acme/unknown-service:1"), nullptr);
    EXPECT_EQ(findService(builtin(), "bitnami/redis:7"), nullptr)
        << "another namespace is another image";
    EXPECT_EQ(findService(builtin(), "node:20"), nullptr) << "a container image is no service";
}

TEST(ServiceImagesFind, TheAdminsDefinitionsComeFirst) {
    ImageTable admin;
    admin.services.push_back({.image = "postgres:*",
                              .packages = {"my-postgres"},
                              .start = "exec my-postgres",
                              .ports = {5432},
                              .origin = "runner.yaml (services.images)"});
    admin.services.push_back({.image = "rabbitmq:3*",
                              .packages = {"rabbitmq-server"},
                              .start = "exec rabbitmq-server",
                              .ports = {5672},
                              .origin = "runner.yaml"});
    admin.containers.push_back(
        {.image = "ghcr.io/acme/builder:*", .packages = {"gcc"}, .origin = "runner.yaml"});
    const ImageTable table = withExtraImages(builtinImages(), admin);

    ASSERT_EQ(table.services.size(), builtin().services.size() + 2);
    EXPECT_EQ(table.services.front().packages, Packages{"my-postgres"});
    const ServiceDefinition* pg = findService(table, "postgres:15");
    ASSERT_NE(pg, nullptr);
    EXPECT_EQ(pg->packages, Packages{"my-postgres"})
        << "the admin's postgres:* wins over the built-in postgres:15*";
    EXPECT_EQ(pg->origin, "runner.yaml (services.images)");
    ASSERT_NE(findService(table, "rabbitmq:3-management"), nullptr);
    EXPECT_EQ(findService(table, "redis:7")->packages, Packages{"redis"})
        << "the built-in ones still apply";

    // The pattern is normalised as the image is: a registry in the pattern matches without it.
    const ContainerDefinition* c = findContainer(table, "ghcr.io/acme/builder:2024");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->packages, Packages{"gcc"});
    EXPECT_NE(findContainer(table, "node:20"), nullptr);
}

Packages containerPackages(const std::string& image) {
    const ContainerDefinition* d = findContainer(builtin(), image);
    EXPECT_NE(d, nullptr) << image;
    return d ? d->packages : Packages{"<none>"};
}

TEST(ServiceImagesFindContainer, LanguageImagesMapToTheirToolchains) {
    EXPECT_EQ(containerPackages("node:20"), Packages{"nodejs_20"});
    EXPECT_EQ(containerPackages("node:20-bullseye"), Packages{"nodejs_20"});
    EXPECT_EQ(containerPackages("node:18.19.0-alpine"), Packages{"nodejs_18"});
    EXPECT_EQ(containerPackages("node:lts"), Packages{"nodejs"});
    EXPECT_EQ(containerPackages("node"), Packages{"nodejs"});
    EXPECT_EQ(containerPackages("python:3.12-slim"), Packages{"python312"});
    EXPECT_EQ(containerPackages("python:3.9"), Packages{"python39"});
    EXPECT_EQ(containerPackages("python:3"), Packages{"python3"});
    EXPECT_EQ(containerPackages("golang:1.22-bookworm"), Packages{"go_1_22"});
    EXPECT_EQ(containerPackages("golang:latest"), Packages{"go"});
    EXPECT_EQ(containerPackages("rust:1.80"), (Packages{"rustc", "cargo"}));
}

TEST(ServiceImagesFindContainer, DistributionsAreFoundAndAddNothing) {
    for (const char* image :
         {"ubuntu:22.04", "ubuntu", "debian:bookworm-slim", "buildpack-deps:jammy"}) {
        const ContainerDefinition* d = findContainer(builtin(), image);
        ASSERT_NE(d, nullptr) << image;
        EXPECT_TRUE(d->packages.empty()) << image;
    }
}

TEST(ServiceImagesFindContainer, UnmappedImagesAreNull) {
    EXPECT_EQ(findContainer(builtin(), "acme/unknown:1"), nullptr);
    EXPECT_EQ(findContainer(builtin(), "alpine:3.20"), nullptr);
    EXPECT_EQ(findContainer(builtin(), "postgres:15"), nullptr)
        << "a service image is no container";
}

// The snippets are what an error tells the admin to paste into the configuration: the
// configuration's own reader must accept them as they are.
TEST(ServiceImagesSnippet, ServiceSnippetIsValidConfigurationForTheNormalisedImage) {
    const std::string text = serviceMappingSnippet("docker.io/library/rabbitmq:3-management");
    EXPECT_NE(text.find("\"rabbitmq:3-management\""), std::string::npos) << text;
    auto parsed = config::parseConfig(text, "snippet.yaml");
    ASSERT_TRUE(parsed.has_value()) << workflow::formatAll(parsed.error()) << "\n" << text;
    ASSERT_EQ(parsed->services.images.size(), 1u);
    const auto& img = parsed->services.images[0];
    EXPECT_EQ(img.image, "rabbitmq:3-management");
    EXPECT_EQ(img.packages, Packages{"the-nix-package"});
    EXPECT_EQ(img.ports, std::vector<std::uint16_t>{1234});
    EXPECT_FALSE(img.start.empty());
    EXPECT_EQ(img.ready, "the-client --port 1234 ping")
        << "the comment is YAML's, not the command's";
}

TEST(ServiceImagesSnippet, ContainerSnippetIsValidConfigurationForTheNormalisedImage) {
    const std::string text = containerMappingSnippet("ghcr.io/acme/builder");
    EXPECT_NE(text.find("\"acme/builder:latest\""), std::string::npos) << text;
    auto parsed = config::parseConfig(text, "snippet.yaml");
    ASSERT_TRUE(parsed.has_value()) << workflow::formatAll(parsed.error()) << "\n" << text;
    ASSERT_EQ(parsed->container.images.size(), 1u);
    EXPECT_EQ(parsed->container.images[0].image, "acme/builder:latest");
    EXPECT_EQ(parsed->container.images[0].packages, Packages{"the-nix-package"});
}

TEST(ServiceImagesSnippet, PastedSnippetMapsTheImageItWasMadeFor) {
    // The round trip the error message promises: paste the snippet, and the image is found.
    const std::string image = "quay.io/team/search:8.1";
    auto parsed = config::parseConfig(serviceMappingSnippet(image), "snippet.yaml");
    ASSERT_TRUE(parsed.has_value());
    ImageTable admin;
    for (const auto& img : parsed->services.images) {
        admin.services.push_back({.image = img.image,
                                  .packages = img.packages,
                                  .start = img.start,
                                  .ready = img.ready,
                                  .ports = img.ports,
                                  .env = img.env,
                                  .origin = "pasted"});
    }
    const ImageTable table = withExtraImages(builtinImages(), admin);  // outlives the pointer into it
    const ServiceDefinition* d = findService(table, image);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->origin, "pasted");
}

}  // namespace
}  // namespace nixjail::runner::engine
