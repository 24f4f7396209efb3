// SecretMasker: replaces secret values (and their encoded forms and separate lines) with ***.
// The job log always passes through one of these before anyone sees it.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace nixjail::runner::actions {

class SecretMasker {
public:
    // Registers a value; multi-line values also mask each of their lines. Empty values are ignored.
    void add(std::string_view value);
    std::string mask(std::string_view text) const;
    // Where `text`, a stream that goes on, can be cut so that no secret (or any of its forms)
    // has begun before the cut and not ended before it: text.size(), moved back before every
    // occurrence or beginning of one that reaches the end. 0 when the text is nothing but that.
    size_t safeCut(std::string_view text) const;
    size_t size() const;

private:
    void addOne(std::string value);

    mutable std::mutex mu_;
    std::vector<std::string> values_;  // longest first, so overlapping secrets mask whole
};

}  // namespace nixjail::runner::actions
