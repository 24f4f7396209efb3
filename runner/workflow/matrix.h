// Expanding strategy.matrix into job instances: the cartesian product, then exclude, then include.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "runner/base/result.h"

namespace nixjail::runner::workflow {

// `matrix` is the evaluated matrix object; `key_order` the keys in file order (may be empty).
// Each result is one combination (a JSON object). An empty matrix gives one empty combination.
base::Result<std::vector<nlohmann::json>, std::string> expandMatrix(
    const nlohmann::json& matrix, const std::vector<std::string>& key_order = {});

// "a, 1" — the values of a combination in key order, as Actions shows them after the job name.
std::string describeCombination(const nlohmann::json& combo, const std::vector<std::string>& key_order);

}  // namespace nixjail::runner::workflow
