// Matrix expansion with GitHub's include/exclude rules.
#include "runner/workflow/matrix.h"

#include <algorithm>

namespace nixjail::runner::workflow {

namespace {

using Json = nlohmann::json;
constexpr size_t kMaxCombinations = 256;  // GitHub's limit per workflow run

std::string valueText(const Json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "";
    return v.dump();
}

bool matchesAll(const Json& combo, const Json& pattern) {
    for (const auto& [k, v] : pattern.items()) {
        if (!combo.contains(k) || combo[k] != v) return false;
    }
    return true;
}

std::vector<std::string> vectorKeys(const Json& matrix, const std::vector<std::string>& order) {
    std::vector<std::string> keys;
    for (const auto& k : order) {
        if (k != "include" && k != "exclude" && matrix.contains(k)) keys.push_back(k);
    }
    for (const auto& [k, v] : matrix.items()) {
        if (k != "include" && k != "exclude" && std::find(keys.begin(), keys.end(), k) == keys.end()) {
            keys.push_back(k);
        }
    }
    return keys;
}

}  // namespace

base::Result<std::vector<Json>, std::string> expandMatrix(const Json& matrix,
                                                          const std::vector<std::string>& key_order) {
    if (matrix.is_null()) return std::vector<Json>{Json::object()};
    if (!matrix.is_object()) return base::unexpected(std::string("matrix must be an object, got ") + matrix.type_name());
    const auto keys = vectorKeys(matrix, key_order);

    std::vector<Json> combos{Json::object()};
    for (const auto& key : keys) {
        const Json& values = matrix[key];
        if (!values.is_array()) {
            return base::unexpected("matrix key '" + key + "' must be a list, got " + values.type_name());
        }
        if (values.empty()) return base::unexpected("matrix key '" + key + "' has no values");
        std::vector<Json> next;
        for (const auto& c : combos) {
            for (const auto& v : values) {
                Json n = c;
                n[key] = v;
                next.push_back(std::move(n));
                if (next.size() > kMaxCombinations) {
                    return base::unexpected("matrix has more than " + std::to_string(kMaxCombinations) +
                                            " combinations");
                }
            }
        }
        combos = std::move(next);
    }

    if (matrix.contains("exclude")) {
        const Json& ex = matrix["exclude"];
        if (!ex.is_array()) return base::unexpected(std::string("matrix 'exclude' must be a list"));
        for (const auto& pattern : ex) {
            if (!pattern.is_object()) return base::unexpected(std::string("matrix 'exclude' entries must be mappings"));
            for (const auto& [k, v] : pattern.items()) {
                if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
                    return base::unexpected("matrix 'exclude' names '" + k + "', which is not a matrix key");
                }
            }
            std::erase_if(combos, [&](const Json& c) { return matchesAll(c, pattern); });
        }
    }
    // A matrix of only includes starts from nothing rather than from one empty combination.
    if (keys.empty()) combos.clear();

    if (matrix.contains("include")) {
        const Json& inc = matrix["include"];
        if (!inc.is_array()) return base::unexpected(std::string("matrix 'include' must be a list"));
        const size_t originalCount = combos.size();
        for (const auto& entry : inc) {
            if (!entry.is_object()) return base::unexpected(std::string("matrix 'include' entries must be mappings"));
            bool added = false;
            for (size_t i = 0; i < originalCount; ++i) {
                Json& c = combos[i];
                // Added only if it overwrites none of the original matrix values.
                bool clashes = false;
                for (const auto& [k, v] : entry.items()) {
                    if (std::find(keys.begin(), keys.end(), k) != keys.end() && c.contains(k) && c[k] != v) {
                        clashes = true;
                        break;
                    }
                }
                if (clashes) continue;
                for (const auto& [k, v] : entry.items()) c[k] = v;
                added = true;
            }
            if (!added) combos.push_back(entry);
            if (combos.size() > kMaxCombinations) {
                return base::unexpected("matrix has more than " + std::to_string(kMaxCombinations) +
                                        " combinations");
            }
        }
    }
    if (combos.empty()) return base::unexpected(std::string("matrix produces no combinations (everything was excluded)"));
    return combos;
}

std::string describeCombination(const Json& combo, const std::vector<std::string>& key_order) {
    std::string out;
    auto add = [&](const Json& v) {
        if (!out.empty()) out += ", ";
        out += valueText(v);
    };
    std::vector<std::string> seen;
    for (const auto& k : key_order) {
        if (combo.contains(k)) {
            add(combo[k]);
            seen.push_back(k);
        }
    }
    for (const auto& [k, v] : combo.items()) {
        if (std::find(seen.begin(), seen.end(), k) == seen.end()) add(v);
    }
    return out;
}

}  // namespace nixjail::runner::workflow
