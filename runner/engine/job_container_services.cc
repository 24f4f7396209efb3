// A job's `container:` (packages for its root) and `services:` (jailed Nix services in its
// network), read with their expressions evaluated.
#include <algorithm>

#include "runner/base/error.h"
#include "runner/engine/job_runner_impl.h"

namespace nixjail::runner::engine {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

void JobRunner::prepareContainer() {
    const Json& c = instance_.job->container;
    if (c.is_null()) return;
    auto text = [&](const Json& v, const std::string& what) -> std::string {
        if (v.is_string()) return parts_.contexts.eval(v.get<std::string>(), nullptr, what);
        return v.is_null() ? std::string() : v.dump();
    };
    const std::string image = text(c.is_object() ? c.value("image", Json()) : c, "container image");
    // As GitHub's runner: an empty image (`container: ${{ matrix.image }}` with none) means none.
    if (image.empty()) return;
    const ContainerDefinition* def = findContainer(job_.opts.images, image);
    if (!def) {
        throw base::Error("the job's container image '" + image + "' has no Nix mapping (this runner runs "
                          "steps in a root of Nix packages, not in containers); map it to the packages it "
                          "stands for in the runner's configuration (exec: --service-images FILE with the same "
                          "keys):\n" + containerMappingSnippet(image));
    }
    if (plan_.root != job::JobPlan::Root::kNixRoot) {
        job_.log(LineKind::kWarning, "Container '" + image + "': the '" + plan_.backend +
                                         "' executor runs steps on the host, not in a root of packages; "
                                         "the image is not applied");
        return;
    }
    container_packages_ = def->packages;
    std::string packages;
    for (const auto& p : def->packages) packages += (packages.empty() ? "" : " ") + p;
    job_.log(LineKind::kRunner, "Container '" + image + "': the job's steps run in its root with " +
                                    (packages.empty() ? std::string("nothing added (the job's own packages are the userland)")
                                                      : "'" + packages + "' added") +
                                    " (" + def->origin + " mapping)");
    if (c.is_object()) {
        for (const char* key : {"options", "volumes", "credentials", "ports"}) {
            if (c.contains(key) && !c[key].is_null()) {
                job_.log(LineKind::kWarning, std::string("container.") + key +
                                                 " cannot apply to a root of Nix packages and is ignored");
            }
        }
    }
    job_.state.container = Json{{"id", ""}, {"network", "job"}};
}

std::vector<ServiceRequest> JobRunner::serviceRequests() {
    std::vector<ServiceRequest> out;
    for (const auto& [id, spec] : instance_.job->services) {
        const std::string where = "service '" + id + "'";
        auto text = [&](const Json& v, const std::string& what) -> std::string {
            if (v.is_string()) return parts_.contexts.eval(v.get<std::string>(), nullptr, where + " " + what);
            return v.is_null() ? std::string() : v.dump();
        };
        ServiceRequest r;
        r.id = id;
        r.image = text(spec.is_object() ? spec.value("image", Json()) : spec, "image");
        if (r.image.empty()) {
            job_.log(LineKind::kRunner, "Service '" + id + "' has an empty image: not started");
            continue;
        }
        if (spec.is_object()) {
            if (spec.contains("env") && spec["env"].is_object()) {
                for (const auto& [k, v] : spec["env"].items()) r.env[k] = text(v, "env '" + k + "'");
            }
            if (spec.contains("ports") && spec["ports"].is_array()) {
                for (const auto& p : spec["ports"]) r.ports.push_back(text(p, "ports"));
            }
            if (spec.contains("options")) r.options = splitOptions(text(spec["options"], "options"));
            for (const char* key : {"volumes", "credentials"}) {
                if (spec.contains(key) && !spec[key].is_null()) {
                    job_.log(LineKind::kWarning, where + ": " + key +
                                                     " cannot apply to a jailed Nix service and is ignored");
                }
            }
        }
        out.push_back(std::move(r));
    }
    return out;
}

void JobRunner::prepareServices() {
    std::vector<ServiceRequest> requests = serviceRequests();
    if (requests.empty()) return;
    if (plan_.network != job::JobPlan::Network::kNamespaceProxy || plan_.root != job::JobPlan::Root::kNixRoot) {
        throw base::Error("the job has `services:`, which run as jailed Nix services in the job's own network "
                          "namespace; the '" + plan_.backend + "' executor has none (use the namespace or "
                          "systemd executor)");
    }
    const auto start = Clock::now();
    try {
        job_.sandbox->makeServices(*job_.opts.executor, job_.opts.root_provider, instance_.job->id, job_.opts.limits,
                                   std::move(requests), job_.opts.images, job_.opts.services_ready_timeout,
                                   stop_.get_token());
    } catch (...) {
        services_start_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        throw;
    }
    services_start_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    job_.state.services = job_.sandbox->services()->context();
}

void JobRunner::reportServicesPhase(JobOutcome& outcome) {
    if (!services_start_) return;
    PhaseRecord p{.phase = Phase::kServicesStart, .duration = *services_start_};
    if (const JobServices* services = job_.sandbox ? job_.sandbox->services() : nullptr) {
        p.facts["services"] = static_cast<int64_t>(services->names().size());
        for (const auto& [id, ready] : services->readyTimes()) p.facts[id + "_ready_ms"] = ready.count();
    }
    phaseDone(outcome, std::move(p));
}

}  // namespace nixjail::runner::engine
