// The request head the runner's HTTP services read, as the proxy's fuzzed parser gives it: they
// name it http::RequestHead (with its header helpers) and reach proxy/ only through this header.
#pragma once

#include "proxy/http_parser.h"

namespace nixjail::runner::http {

using proxy::http::BodyFraming;
using proxy::http::Header;
using proxy::http::Headers;
using proxy::http::RequestHead;

// Case-insensitive lookups and comparisons on header names and values.
using proxy::http::equalsIgnoreCase;
using proxy::http::findHeader;
using proxy::http::headerHasToken;
// The path of an origin-form target, without the query.
using proxy::http::pathWithoutQuery;

}  // namespace nixjail::runner::http
