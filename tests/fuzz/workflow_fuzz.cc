// libFuzzer target for workflow files: the input is parsed and validated as a workflow, and every
// matrix it declares is expanded. Bad input must come back as diagnostics, never as a crash or an
// exception escaping.
#include <cstdint>
#include <string>

#include "runner/workflow/matrix.h"
#include "runner/workflow/workflow_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto wf = nixjail::runner::workflow::parseWorkflow(text, "fuzz.yml");
    if (!wf) {
        (void)nixjail::runner::workflow::formatAll(wf.error());
        return 0;
    }
    for (const auto& job : wf->jobs) {
        if (job.strategy && job.strategy->matrix.is_object()) {
            (void)nixjail::runner::workflow::expandMatrix(job.strategy->matrix, job.strategy->matrix_keys);
        }
    }
    return 0;
}
