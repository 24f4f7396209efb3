// Finds repeated mapping keys anywhere in a YAML tree.
#include "runner/workflow/duplicate_keys.h"

#include <map>
#include <string>

namespace nixjail::runner::workflow {

void checkDuplicateKeys(const YAML::Node& node, const SourceText& src, Diagnostics& out) {
    if (!node) return;
    if (node.IsSequence()) {
        for (const auto& item : node) checkDuplicateKeys(item, src, out);
    } else if (node.IsMap()) {
        std::map<std::string, int> firstLine;
        for (const auto& kv : node) {
            if (kv.first.IsScalar()) {
                const std::string& key = kv.first.Scalar();
                auto [it, inserted] = firstLine.emplace(key, kv.first.Mark().line + 1);
                if (!inserted) {
                    out.push_back(src.at(kv.first.Mark(),
                                         "duplicate key '" + key +
                                             "': it is already defined at line " +
                                             std::to_string(it->second) +
                                             "; YAML would keep only one of them, so remove or "
                                             "rename one"));
                }
            }
            checkDuplicateKeys(kv.second, src, out);
        }
    }
}

}  // namespace nixjail::runner::workflow
