// libcurl easy handle; curl_global_init runs once, thread-safely, before the first handle.
#include "runner/forge/curl_easy.h"

#include <memory>
#include <mutex>

#include "runner/forge/forge_client.h"

namespace nixjail::runner::forge {

namespace {
size_t appendBody(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}
struct SlistFree {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
}  // namespace

CurlEasy::CurlEasy() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    handle_ = curl_easy_init();
    if (!handle_) throw base::Error("curl_easy_init failed: out of memory?");
}

CurlEasy::~CurlEasy() { curl_easy_cleanup(handle_); }

HttpReply CurlEasy::post(const std::string& url, const std::vector<std::string>& headers,
                         const std::string& body, std::chrono::milliseconds timeout,
                         bool insecure) {
    curl_easy_reset(handle_);
    std::unique_ptr<curl_slist, SlistFree> list;
    for (const auto& h : headers) {
        curl_slist* next = curl_slist_append(list.get(), h.c_str());
        if (!next) throw base::Error("curl_slist_append failed: out of memory?");
        list.release();
        list.reset(next);
    }
    HttpReply reply;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(handle_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle_, CURLOPT_POST, 1L);
    curl_easy_setopt(handle_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(handle_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, appendBody);
    curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(handle_, CURLOPT_ACCEPT_ENCODING, "");  // gzip replies decoded by curl
    curl_easy_setopt(handle_, CURLOPT_PROTOCOLS_STR, "http,https");
    if (insecure) {
        curl_easy_setopt(handle_, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(handle_, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode rc = curl_easy_perform(handle_);
    if (rc != CURLE_OK) {
        std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        throw ForgeError("POST '" + url + "' failed: " + detail, "unavailable", 0);
    }
    curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &reply.status);
    char* ct = nullptr;
    curl_easy_getinfo(handle_, CURLINFO_CONTENT_TYPE, &ct);
    if (ct) reply.content_type = ct;
    return reply;
}

}  // namespace nixjail::runner::forge
