// Compiling each profile's seccomp filter once, the default one ahead of the first job.
#include "executor/namespace/seccomp_filters.h"

#include <signal.h>

namespace nixjail::executor::ns {

namespace {

std::shared_ptr<const SeccompProgram> compile(HardeningProfile profile) {
    return std::make_shared<const SeccompProgram>(compileSeccompFilter(planSeccompRules(profile)));
}

}  // namespace

SeccompFilters::SeccompFilters() {
    // The compiling thread starts with every signal blocked: SIGINT or SIGTERM meant for the
    // runner's canceller must never land on it (it may exist before the canceller blocks them).
    sigset_t all, was;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &was);
    try {
        compiled_.emplace(HardeningProfile::kDefault,
                          std::async(std::launch::async, compile, HardeningProfile::kDefault).share());
    } catch (const std::system_error&) {
        // No thread to be had: the first job compiles it.
    }
    ::pthread_sigmask(SIG_SETMASK, &was, nullptr);
}

SeccompFilters::~SeccompFilters() {
    for (auto& [profile, compiled] : compiled_) compiled.wait();
}

std::shared_ptr<const SeccompProgram> SeccompFilters::get(HardeningProfile profile) {
    Compiled compiled;
    {
        std::lock_guard lock(mutex_);
        auto it = compiled_.find(profile);
        if (it == compiled_.end()) {
            std::promise<std::shared_ptr<const SeccompProgram>> done;
            try {
                done.set_value(compile(profile));
            } catch (...) {
                done.set_exception(std::current_exception());
            }
            it = compiled_.emplace(profile, done.get_future().share()).first;
        }
        compiled = it->second;
    }
    return compiled.get();
}

}  // namespace nixjail::executor::ns
