// YAML to JSON conversion.
#include "runner/workflow/yaml_json.h"

#include <cmath>
#include <limits>
#include <regex>

namespace nixjail::runner::workflow {

namespace {

nlohmann::json typedPlainScalar(const std::string& s) {
    static const std::regex kInt(R"([-+]?[0-9]+)");
    static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    if (std::regex_match(s, kInt)) {
        try {
            return std::stoll(s);
        } catch (const std::out_of_range&) {
            return std::stod(s);
        }
    }
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        const int base = s[1] == 'x' ? 16 : 8;
        try {
            size_t used = 0;
            long long v = std::stoll(s.substr(2), &used, base);
            if (used == s.size() - 2) return v;
        } catch (const std::exception&) {
        }
        return s;
    }
    if (std::regex_match(s, kFloat)) return std::stod(s);
    if (s == ".inf" || s == "+.inf" || s == ".Inf" || s == ".INF") return std::numeric_limits<double>::infinity();
    if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -std::numeric_limits<double>::infinity();
    return s;
}

}  // namespace

nlohmann::json yamlToJson(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
            return nullptr;
        case YAML::NodeType::Scalar:
            // yaml-cpp tags plain scalars "?" and quoted ones "!".
            if (node.Tag() == "!") return node.Scalar();
            return typedPlainScalar(node.Scalar());
        case YAML::NodeType::Sequence: {
            auto arr = nlohmann::json::array();
            for (const auto& item : node) arr.push_back(yamlToJson(item));
            return arr;
        }
        case YAML::NodeType::Map: {
            auto obj = nlohmann::json::object();
            for (const auto& kv : node) obj[kv.first.Scalar()] = yamlToJson(kv.second);
            return obj;
        }
    }
    return nullptr;
}

std::string scalarText(const YAML::Node& node) {
    if (!node || node.IsNull()) return "";
    return node.Scalar();
}

}  // namespace nixjail::runner::workflow
