// The job plan drives how a job is wired: a backend whose traits say "sandbox on the host's
// loopback" (sandbox-exec on macOS) gets its proxy on 127.0.0.1 with the port in the JailSpec, the
// proxy's variables and CA, and only dummies of the forge token. Run here with a stand-in for
// sandbox-exec that has its traits and runs steps as host processes.
#include <gtest/gtest.h>

#include <mutex>

#include "executor/host/host_executor.h"
#include "executor/sandbox_exec/sandbox_exec_executor.h"
#include "runner/base/temp_dir.h"
#include "runner/engine/workflow_runner.h"
#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::engine {
namespace {

class LoopbackSandboxStandIn : public executor::Executor {
  public:
    std::string name() const override { return "sandbox-exec"; }
    executor::BackendTraits traits() const override { return executor::sandboxExecTraits(); }
    std::unique_ptr<executor::Jail> prepare(const executor::JailSpec& spec) override {
        specs.push_back(spec);
        return host_.prepare(spec);
    }
    std::vector<executor::JailSpec> specs;

  private:
    executor::HostExecutor host_;
};

struct Lines : RunReporter {
    std::mutex mu;
    std::string text;
    struct Obs : JobObserver {
        Lines* l;
        void stepStarted(const StepRecord&) override {}
        void stepFinished(const StepRecord&) override {}
        void line(const LogLine& line) override {
            std::lock_guard lock(l->mu);
            l->text += line.text + "\n";
        }
    };
    std::unique_ptr<JobObserver> jobStarted(const JobInstance&) override {
        auto o = std::make_unique<Obs>();
        o->l = this;
        return o;
    }
    void jobFinished(const JobInstance&, const JobOutcome&) override {}
};

TEST(JobPlanWiring, ALoopbackSandboxGetsItsProxyPortAndOnlyDummyTokens) {
    auto wf = workflow::parseWorkflow(R"Y(
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "proxy=$HTTPS_PROXY"
          echo "ca=$SSL_CERT_FILE"
          echo "token=${{ github.token }}"
          test -s "$SSL_CERT_FILE" && echo "ca-file-readable"
          code=$(curl -s -o /dev/null -w '%{http_code}' --proxy "$HTTP_PROXY" http://denied.invalid/ || true)
          echo "denied-status=$code"
)Y", "plan.yml");
    ASSERT_TRUE(wf) << workflow::formatAll(wf.error());
    LoopbackSandboxStandIn sandbox;
    base::TempDir work("nixjail-plan-wiring-");
    RunOptions opts;
    opts.executor = &sandbox;
    opts.work_dir = work.path();
    const std::string realToken = "real-forge-token-0123456789abcdef";
    opts.github = {{"repository", "me/repo"}, {"server_url", "https://forge.example"},
                   {"api_url", "https://forge.example/api/v1"}};
    opts.secrets = {{"GITHUB_TOKEN", realToken}};
    SecretMasker masker;
    masker.add(realToken);
    Lines lines;
    const auto report = runWorkflow(*wf, {}, opts, lines, masker, {});
    EXPECT_EQ(report.result, Result::kSuccess) << lines.text;
    ASSERT_EQ(sandbox.specs.size(), 1u);
    const auto& spec = sandbox.specs[0];
    EXPECT_EQ(spec.netns_fd, -1) << "no namespace: the sandbox confines the network";
    ASSERT_NE(spec.proxy_port, 0) << "the sandbox profile needs the proxy's port";
    EXPECT_NE(lines.text.find("proxy=http://127.0.0.1:" + std::to_string(spec.proxy_port) + "\n"),
              std::string::npos)
        << lines.text;
    EXPECT_NE(lines.text.find("ca-file-readable"), std::string::npos) << lines.text;
    EXPECT_NE(lines.text.find("the sandbox lets steps reach only their proxy"), std::string::npos)
        << lines.text;
    EXPECT_NE(lines.text.find("denied-status=403"), std::string::npos) << lines.text;
    EXPECT_EQ(lines.text.find("token=***"), std::string::npos)
        << "the job saw the real token (masked in the log):\n" << lines.text;
    EXPECT_NE(lines.text.find("token="), std::string::npos) << lines.text;
}

}  // namespace
}  // namespace nixjail::runner::engine
