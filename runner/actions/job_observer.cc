// The names of results and phases, as the forge, the summary and the database write them.
#include "runner/actions/job_observer.h"

namespace nixjail::runner::actions {

const char* resultName(Result r) {
    switch (r) {
        case Result::kSuccess: return "success";
        case Result::kFailure: return "failure";
        case Result::kCancelled: return "cancelled";
        case Result::kSkipped: return "skipped";
    }
    return "unknown";
}

const char* phaseName(Phase p) {
    switch (p) {
        case Phase::kClosureResolution: return "closure_resolution";
        case Phase::kRootPrepare: return "root_prepare";
        case Phase::kWorkspacePrepare: return "workspace_prepare";
        case Phase::kProxySetup: return "proxy_setup";
        case Phase::kExecution: return "execution";
        case Phase::kCleanup: return "cleanup";
        case Phase::kServicesStart: return "services_start";
    }
    return "unknown";
}

}  // namespace nixjail::runner::actions
