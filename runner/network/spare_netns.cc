#include "runner/network/spare_netns.h"

#include "runner/network/anonymous_netns.h"

namespace nixjail::runner::network {

SpareNetns::SpareNetns(bool refill)
    : next_(std::async(std::launch::async, createAnonymousNetns)), refill_(refill) {}

SpareNetns::~SpareNetns() {
    if (next_.valid()) next_.wait();  // the future's fd, if any, closes with it
}

base::UniqueFd SpareNetns::take() {
    std::future<base::UniqueFd> made;
    {
        std::lock_guard lock(mutex_);
        made = std::move(next_);
        if (refill_) next_ = std::async(std::launch::async, createAnonymousNetns);
    }
    return made.valid() ? made.get() : createAnonymousNetns();
}

}  // namespace nixjail::runner::network
