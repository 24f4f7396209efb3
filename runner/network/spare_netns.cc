#include "runner/network/spare_netns.h"

#include "runner/network/anonymous_netns.h"

namespace nixjail::runner::network {

SpareNetns::SpareNetns(bool refill)
    : next_(std::async(std::launch::async, createAnonymousNetns)), refill_(refill) {}

SpareNetns::~SpareNetns() {
    if (next_.valid()) next_.wait();  // the future's fd, if any, closes with it
}

std::future<base::UniqueFd> SpareNetns::take() {
    std::lock_guard lock(mutex_);
    std::future<base::UniqueFd> made = std::move(next_);
    if (!made.valid()) made = std::async(std::launch::async, createAnonymousNetns);
    if (refill_) next_ = std::async(std::launch::async, createAnonymousNetns);
    return made;
}

}  // namespace nixjail::runner::network
