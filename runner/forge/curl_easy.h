// CurlEasy: an owned libcurl easy handle that POSTs a body and collects the reply.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <string>
#include <vector>

#include "runner/forge/curl_library.h"

namespace nixjail::runner::forge {

struct HttpReply {
    long status = 0;
    std::string content_type;
    std::string body;
};

class CurlEasy {
  public:
    CurlEasy();
    CurlEasy(const CurlEasy&) = delete;
    CurlEasy& operator=(const CurlEasy&) = delete;
    ~CurlEasy();

    // Throws ForgeError (http status 0, code "unavailable") when no HTTP reply arrived.
    HttpReply post(const std::string& url, const std::vector<std::string>& headers,
                   const std::string& body, std::chrono::milliseconds timeout, bool insecure);

  private:
    const CurlLibrary& curl_;
    CURL* handle_;
};

}  // namespace nixjail::runner::forge
