// The generic closure walk and the closure key; knows nothing about how edges are found.
#include "workspace-cache/closure.h"

#include <algorithm>
#include <set>

#include "workspace-cache/content_hash.h"

namespace nixjail::cache {

std::vector<std::string> computeClosure(const std::vector<std::string>& roots,
                                        ReferenceSource& source) {
    std::set<std::string> seen;
    std::vector<std::string> todo(roots.begin(), roots.end());
    while (!todo.empty()) {
        std::string path = std::move(todo.back());
        todo.pop_back();
        if (!seen.insert(path).second) continue;
        for (auto& ref : source.references(path))
            if (!seen.count(ref)) todo.push_back(std::move(ref));
    }
    return {seen.begin(), seen.end()};
}

std::string closureKey(std::vector<std::string> paths) {
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    std::string text;
    for (const auto& p : paths) text += p + "\n";
    return sha256Hex(text);
}

std::vector<std::string> MapReferenceSource::references(const std::string& path) {
    ++queries_;
    auto it = edges_.find(path);
    return it == edges_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace nixjail::cache
