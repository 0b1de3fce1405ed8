#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: typed wrappers.
static inline CURLcode herinner_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode herinner_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode herinner_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*herinner_io_callback)(char *, size_t, size_t, void *);
static inline CURLcode herinner_setopt_callback(CURL *h, CURLoption o, herinner_io_callback f) { return curl_easy_setopt(h, o, f); }
static inline CURLcode herinner_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode herinner_getinfo_socket(CURL *h, curl_socket_t *v) { return curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, v); }

#include <string.h>
// The offset of the next "." at the start of a line in p[from..<n] (the message's first byte
// counts as a line start), or n. memchr skips the base64 of attachments (no "." there) fast.
static inline size_t herinner_next_line_dot(const unsigned char *p, size_t n, size_t from) {
  while (from < n) {
    const unsigned char *d = memchr(p + from, '.', n - from);
    if (!d) return n;
    size_t i = (size_t)(d - p);
    if (i == 0 || p[i - 1] == '\n') return i;
    from = i + 1;
  }
  return n;
}
