// CacheRefused: why the cache store turned a request down; the HTTP layer maps it to a status.
#pragma once

#include <stdexcept>
#include <string>

namespace nixjail::runner::cache_server {

enum class CacheRefusal { kBadRequest, kNotFound, kConflict, kTooLarge, kStorage };

class CacheRefused : public std::runtime_error {
  public:
    CacheRefused(CacheRefusal why, const std::string& what) : std::runtime_error(what), why_(why) {}
    CacheRefusal why() const { return why_; }

  private:
    CacheRefusal why_;
};

}  // namespace nixjail::runner::cache_server
