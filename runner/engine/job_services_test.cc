// What JobServices decides before anything runs: `options:` split as a shell would, the docker
// --health-* options it honours, port mappings, and the /etc/hosts that names the services.
#include "runner/engine/job_services.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::engine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Words = std::vector<std::string>;

// The message of the base::Error that `f` throws, or "" (and a failure) when it throws none.
template <typename F>
std::string errorOf(F&& f) {
    try {
        f();
    } catch (const base::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no base::Error thrown";
    return "";
}

TEST(JobServicesSplitOptions, SplitsOnBlanksOutsideQuotes) {
    EXPECT_EQ(splitOptions("--health-cmd \"pg_isready -U x\" --health-interval 10s"),
              (Words{"--health-cmd", "pg_isready -U x", "--health-interval", "10s"}));
    EXPECT_EQ(splitOptions("  --a\t--b\n--c  "), (Words{"--a", "--b", "--c"}));
    EXPECT_EQ(splitOptions("--health-cmd='redis-cli ping'"),
              (Words{"--health-cmd=redis-cli ping"}));
    EXPECT_EQ(splitOptions("a\"b c\"d"), (Words{"ab cd"})) << "quotes join a word, as in a shell";
    EXPECT_TRUE(splitOptions("").empty());
    EXPECT_TRUE(splitOptions("   ").empty());
}

TEST(JobServicesSplitOptions, AnEmptyQuotedWordIsAWord) {
    EXPECT_EQ(splitOptions("--health-cmd '' x"), (Words{"--health-cmd", "", "x"}));
}

TEST(JobServicesSplitOptions, BackslashesEscapeOutsideAndInDoubleQuotesNotInSingle) {
    EXPECT_EQ(splitOptions("a\\ b c"), (Words{"a b", "c"}));
    EXPECT_EQ(splitOptions("\"say \\\"hi\\\"\""), (Words{"say \"hi\""}));
    EXPECT_EQ(splitOptions("'a\\b'"), (Words{"a\\b"})) << "single quotes keep a backslash";
    EXPECT_EQ(splitOptions("\"it's\""), (Words{"it's"}));
    EXPECT_EQ(splitOptions("'say \"hi\"'"), (Words{"say \"hi\""}));
}

TEST(JobServicesSplitOptions, AnUnclosedQuoteIsAnError) {
    for (const char* text : {"--health-cmd \"pg_isready", "--health-cmd 'x", "a \"b' c"}) {
        const std::string what = errorOf([&] { splitOptions(text); });
        EXPECT_NE(what.find("unclosed quote"), std::string::npos) << text << ": " << what;
        EXPECT_NE(what.find(text), std::string::npos) << "names the options: " << what;
    }
}

TEST(JobServicesOptions, HealthOptionsAreHonouredWithSeparateOrJoinedValues) {
    const ServiceOptions o = parseServiceOptions(
        splitOptions("--health-cmd \"pg_isready -U x\" --health-interval=10s --health-retries 5 "
                     "--health-timeout 5s --health-start-period 1m30s"));
    EXPECT_EQ(o.health_cmd, "pg_isready -U x");
    EXPECT_EQ(o.interval, 10s);
    EXPECT_EQ(o.retries, 5);
    EXPECT_EQ(o.timeout, 5s);
    EXPECT_EQ(o.start_period, 90s);
    EXPECT_TRUE(o.ignored.empty());
}

TEST(JobServicesOptions, DurationsTakeDockersUnits) {
    auto interval = [](const std::string& text) {
        return parseServiceOptions({"--health-interval", text}).interval;
    };
    EXPECT_EQ(interval("500ms"), 500ms);
    EXPECT_EQ(interval("2m"), 2min);
    EXPECT_EQ(interval("1h"), 1h);
    EXPECT_EQ(interval("1.5s"), 1500ms);
    EXPECT_EQ(interval("1m30s"), 90s);
    EXPECT_EQ(interval("2000000ns"), 2ms);
    EXPECT_EQ(interval("3000us"), 3ms);
}

TEST(JobServicesOptions, NothingGivenLeavesTheDefaults) {
    const ServiceOptions o = parseServiceOptions({});
    EXPECT_TRUE(o.health_cmd.empty());
    EXPECT_FALSE(o.interval);
    EXPECT_FALSE(o.timeout);
    EXPECT_FALSE(o.start_period);
    EXPECT_FALSE(o.retries);
    EXPECT_TRUE(o.ignored.empty());
}

TEST(JobServicesOptions, OtherDockerOptionsAreCollectedWithTheirValue) {
    const ServiceOptions o = parseServiceOptions(splitOptions(
        "--name x --health-cmd true -e K=V --network=host --privileged --no-healthcheck"));
    EXPECT_EQ(o.health_cmd, "true");
    EXPECT_EQ(o.ignored,
              (Words{"--name x", "-e K=V", "--network=host", "--privileged", "--no-healthcheck"}));
}

TEST(JobServicesOptions, AHealthOptionWithoutValueIsAnError) {
    const std::string what = errorOf([] {
        parseServiceOptions({"--health-retries", "3", "--health-interval"});
    });
    EXPECT_EQ(what, "service option --health-interval needs a value");
    EXPECT_EQ(errorOf([] { parseServiceOptions({"--health-cmd"}); }),
              "service option --health-cmd needs a value");
}

TEST(JobServicesOptions, ABadDurationIsAnErrorThatShowsTheForm) {
    for (const char* bad : {"10", "ten", "10x", "s", "1m30"}) {
        const std::string what = errorOf([&] { parseServiceOptions({"--health-timeout", bad}); });
        EXPECT_EQ(what, std::string("service option --health-timeout '") + bad +
                            "' is not a duration (10s, 500ms, 1m30s)");
    }
    EXPECT_EQ(errorOf([] { parseServiceOptions({"--health-interval="}); }),
              "service option --health-interval is empty");
}

TEST(JobServicesOptions, ABadRetryCountIsAnError) {
    for (const char* bad : {"many", "5x", "-1"}) {
        EXPECT_EQ(errorOf([&] { parseServiceOptions({"--health-retries", bad}); }),
                  std::string("service option --health-retries '") + bad + "' is not a number of retries");
    }
}

TEST(JobServicesOptions, ADurationIsDigitsAndUnitsOnly) {
    for (const char* bad : {"-5s", "infs", "0x10s", "5", "s"}) {
        EXPECT_NE(errorOf([&] { parseServiceOptions({"--health-timeout", bad}); }), "") << bad;
    }
    EXPECT_EQ(parseServiceOptions({"--health-timeout", "1.5s"}).timeout, std::chrono::milliseconds(1500));
}

using Mapping = std::pair<std::uint16_t, std::uint16_t>;

TEST(JobServicesPorts, PortOrHostPortColonContainerPort) {
    EXPECT_EQ(parsePortMapping("5432"), (Mapping{5432, 5432}));
    EXPECT_EQ(parsePortMapping("8080:80"), (Mapping{8080, 80}));
    EXPECT_EQ(parsePortMapping("127.0.0.1:8080:80"), (Mapping{8080, 80}))
        << "the host address has no meaning here";
    EXPECT_EQ(parsePortMapping("6379/tcp"), (Mapping{6379, 6379}));
    EXPECT_EQ(parsePortMapping("16379:6379/tcp"), (Mapping{16379, 6379}));
    EXPECT_EQ(parsePortMapping("65535"), (Mapping{65535, 65535}));
}

TEST(JobServicesPorts, UdpIsRefusedByName) {
    const std::string what = errorOf([] { parsePortMapping("53/udp"); });
    EXPECT_EQ(what, "service port '53/udp': only tcp ports can be mapped");
}

TEST(JobServicesPorts, WhatIsNoPortIsAnErrorShowingTheForm) {
    for (const char* bad :
         {"abc", "0", "70000", "65536", "8080:", ":80", "80a", "8080:80:", "-1", "1-2:80"}) {
        const std::string what = errorOf([&] { parsePortMapping(bad); });
        EXPECT_EQ(what,
                  std::string("service port '") + bad + "' is not PORT or HOST_PORT:CONTAINER_PORT")
            << bad;
    }
}

TEST(JobServicesHosts, NamesTheServicesAndLocalhostOnTheLoopback) {
    base::TempDir root("nixjail-hosts-test-");
    ASSERT_TRUE(writeServiceHosts(root.path(), {"postgres", "redis"}));
    EXPECT_EQ(base::readFile(root.path() / "etc/hosts"),
              "127.0.0.1 localhost postgres redis\n::1 localhost\n");
    EXPECT_EQ(fs::status(root.path() / "etc/hosts").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                  fs::perms::others_read);
}

TEST(JobServicesHosts, ReplacesAnExistingHostsFile) {
    base::TempDir root("nixjail-hosts-test-");
    fs::create_directories(root.path() / "etc");
    base::writeFile(root.path() / "etc/hosts", "10.0.0.1 elsewhere\n");
    ASSERT_TRUE(writeServiceHosts(root.path(), {"db"}));
    EXPECT_EQ(base::readFile(root.path() / "etc/hosts"), "127.0.0.1 localhost db\n::1 localhost\n");
}

TEST(JobServicesHosts, RefusesAnEtcThatIsALinkAndWritesNothing) {
    base::TempDir root("nixjail-hosts-test-");
    base::TempDir elsewhere("nixjail-hosts-target-");
    fs::create_symlink(elsewhere.path(), root.path() / "etc");
    EXPECT_FALSE(writeServiceHosts(root.path(), {"postgres"}));
    EXPECT_FALSE(fs::exists(elsewhere.path() / "hosts"));
    EXPECT_TRUE(fs::is_empty(elsewhere.path()));
}

TEST(JobServicesHosts, RefusesAHostsFileThatIsALink) {
    base::TempDir root("nixjail-hosts-test-");
    base::TempDir elsewhere("nixjail-hosts-target-");
    base::writeFile(elsewhere.path() / "hosts", "untouched\n");
    fs::create_directories(root.path() / "etc");
    fs::create_symlink(elsewhere.path() / "hosts", root.path() / "etc/hosts");
    EXPECT_FALSE(writeServiceHosts(root.path(), {"postgres"}));
    EXPECT_EQ(base::readFile(elsewhere.path() / "hosts"), "untouched\n");
    EXPECT_TRUE(fs::is_symlink(root.path() / "etc/hosts"));
}

}  // namespace
}  // namespace nixjail::runner::engine
