// The daemon's operator log in JSON: one valid object per line, whatever the message holds.
#include "runner/daemon/daemon_runtime.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace nixjail::runner::daemon {
namespace {

TEST(DaemonLogger, JsonFormatIsOneValidObjectPerLine) {
    DaemonConfig cfg;
    cfg.log.format = "json";
    cfg.log.level = "debug";
    std::ostringstream out;
    auto log = makeDaemonLogger(cfg, std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    log->clone("task 7")->info("step \"build\" said\tC:\\path\nand more {}", 1);
    log->debug("plain");
    std::istringstream lines(out.str());
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    auto first = nlohmann::json::parse(line);
    EXPECT_EQ(first["message"], "step \"build\" said\tC:\\path\nand more 1");
    EXPECT_EQ(first["logger"], "task 7");
    EXPECT_EQ(first["level"], "info");
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_EQ(nlohmann::json::parse(line)["message"], "plain");
}

}  // namespace
}  // namespace nixjail::runner::daemon
