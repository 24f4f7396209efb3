// libcurl easy handle, through the library loaded on first use (curl_library.h), which also
// runs curl_global_init once, thread-safely, before the first handle.
#include "runner/forge/curl_easy.h"

#include <memory>

#include "runner/forge/forge_client.h"

namespace nixjail::runner::forge {

namespace {
size_t appendBody(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}
struct SlistFree {
    const CurlLibrary* curl;
    void operator()(curl_slist* l) const { curl->slist_free_all(l); }
};
}  // namespace

CurlEasy::CurlEasy() : curl_(curlLibrary()) {
    handle_ = curl_.easy_init();
    if (!handle_) throw base::Error("curl_easy_init failed: out of memory?");
}

CurlEasy::~CurlEasy() { curl_.easy_cleanup(handle_); }

HttpReply CurlEasy::post(const std::string& url, const std::vector<std::string>& headers,
                         const std::string& body, std::chrono::milliseconds timeout,
                         bool insecure) {
    curl_.easy_reset(handle_);
    std::unique_ptr<curl_slist, SlistFree> list(nullptr, SlistFree{&curl_});
    for (const auto& h : headers) {
        curl_slist* next = curl_.slist_append(list.get(), h.c_str());
        if (!next) throw base::Error("curl_slist_append failed: out of memory?");
        list.release();
        list.reset(next);
    }
    HttpReply reply;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_.easy_setopt(handle_, CURLOPT_URL, url.c_str());
    curl_.easy_setopt(handle_, CURLOPT_POST, 1L);
    curl_.easy_setopt(handle_, CURLOPT_POSTFIELDS, body.data());
    curl_.easy_setopt(handle_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_.easy_setopt(handle_, CURLOPT_HTTPHEADER, list.get());
    curl_.easy_setopt(handle_, CURLOPT_WRITEFUNCTION, appendBody);
    curl_.easy_setopt(handle_, CURLOPT_WRITEDATA, &reply.body);
    curl_.easy_setopt(handle_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_.easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_.easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
    curl_.easy_setopt(handle_, CURLOPT_ERRORBUFFER, errbuf);
    curl_.easy_setopt(handle_, CURLOPT_ACCEPT_ENCODING, "");  // gzip replies decoded by curl
    curl_.easy_setopt(handle_, CURLOPT_PROTOCOLS_STR, "http,https");
    if (insecure) {
        curl_.easy_setopt(handle_, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_.easy_setopt(handle_, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode rc = curl_.easy_perform(handle_);
    if (rc != CURLE_OK) {
        std::string detail = errbuf[0] ? errbuf : curl_.easy_strerror(rc);
        throw ForgeError("POST '" + url + "' failed: " + detail, "unavailable", 0);
    }
    curl_.easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &reply.status);
    char* ct = nullptr;
    curl_.easy_getinfo(handle_, CURLINFO_CONTENT_TYPE, &ct);
    if (ct) reply.content_type = ct;
    return reply;
}

}  // namespace nixjail::runner::forge
