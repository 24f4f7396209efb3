// What a job asks of its root: its declared packages, its runs-on labels (for the default set of a
// job that declares none) and the packages its actions need.
#include <algorithm>

#include "runner/engine/default_packages.h"
#include "runner/engine/job_runner_impl.h"

namespace nixjail::runner::engine {

RootRequest JobRunner::rootRequest() {
    RootRequest request;
    request.packages = jobPackages();
    // runs-on may use the matrix (`runs-on: ${{ matrix.os }}`); a label that does not evaluate
    // is left out, so the job fails naming the labels it has.
    auto evaluated = [&](const Json& v) -> Json {
        if (!v.is_string() || !expr::containsExpression(v.get<std::string>())) return v;
        auto r = expr::evaluateTemplate(v.get<std::string>(), parts_.contexts.build(nullptr));
        if (!r) {
            job_.log(LineKind::kWarning, "runs-on '" + v.get<std::string>() + "': " + r.error().format());
            return Json();
        }
        return *r;
    };
    Json runsOn = job_.instance.job->runs_on;
    if (runsOn.is_object() && runsOn.contains("labels")) runsOn = runsOn["labels"];
    runsOn = evaluated(runsOn);
    if (runsOn.is_array()) {
        Json flat = Json::array();
        for (const auto& v : runsOn) {
            const Json e = evaluated(v);
            if (e.is_array()) {
                for (const auto& x : e) flat.push_back(x);
            } else {
                flat.push_back(e);
            }
        }
        runsOn = flat;
    }
    request.labels = runsOnLabels(runsOn);
    request.shared = plan_.shared_root && job_.instance.job->services.empty();
    if (needs_node_ && !job_.opts.node_package.empty() &&
        std::find(request.packages.begin(), request.packages.end(), job_.opts.node_package) ==
            request.packages.end()) {
        request.extra.push_back(job_.opts.node_package);
    }
    for (const auto& p : container_packages_) {
        if (std::find(request.extra.begin(), request.extra.end(), p) == request.extra.end()) request.extra.push_back(p);
    }
    return request;
}

std::string JobRunner::missingProgramNote() const {
    if (!jobPackages().empty()) return {};
    return ", in the job's NIXJAIL_PACKAGES together with the others it uses (declared packages "
           "replace the set it got without them)";
}

}  // namespace nixjail::runner::engine
