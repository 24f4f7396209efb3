// Opening a shared library from the first candidate that has what its caller needs.
#include "runner/base/shared_library.h"

#include <dlfcn.h>

#include "runner/base/error.h"

namespace nixjail::base {

std::vector<std::string> sharedLibraryCandidates(const std::string& soname, const std::filesystem::path& found_dir) {
    std::vector<std::string> out{soname};
    if (!found_dir.empty()) out.push_back((found_dir / soname).string());
    return out;
}

void* openSharedLibrary(const std::vector<std::string>& candidates, const std::function<std::string(void*)>& bind,
                        const std::string& what, const std::string& install) {
    std::string why;
    for (const auto& name : candidates) {
        // RTLD_LOCAL: nothing else in the process resolves against it. Where the program is also
        // linked with the library (a test fixture), this returns the copy already loaded.
        void* handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char* err = ::dlerror();
            why += "\n  " + name + ": " + (err ? err : "cannot be opened");
            continue;
        }
        if (const std::string wrong = bind(handle); !wrong.empty()) {
            ::dlclose(handle);
            why += "\n  " + name + ": " + wrong;
            continue;
        }
        return handle;
    }
    throw Error(what + " cannot be loaded:" + why + "\n" + install);
}

}  // namespace nixjail::base
