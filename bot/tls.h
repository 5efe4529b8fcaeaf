/*
 * tls: the certificate authorities the bot trusts on its TLS connections,
 * and the words for a certificate that failed.  Both clients of the Discord
 * adapter, the gateway (libwebsockets, ws.c) and REST (libcurl, http.c),
 * verify against one store read once from one file: SSL_CERT_FILE when
 * set, else OpenSSL's default bundle (the system's, from ca-certificates).
 * One store instead of one per TLS context, and in it the bundle's bytes,
 * each certificate made ready only when a server's chain needs it: about
 * 200 KB where every context loading the whole bundle took 900 KB each.
 * The only file that calls OpenSSL; OpenSSL objects cross this API as void
 * pointers.  Threading: the store is reference counted and locked by
 * OpenSSL, so connections on any thread may share it.
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

struct tls_trust;

/*
 * Set OpenSSL up, before libwebsockets and libcurl do, without its tables
 * of error texts (about 0.4 MB): a TLS failure other than a refused
 * certificate (whose words come from tls_cert_problem) may then show a
 * code such as error:0A00010B, which `openssl errstr 0A00010B` spells out.
 * Any thread, any number of times.
 */
void tls_init(void);

/*
 * Read the PEM certificates of file (NULL or "": OpenSSL's default bundle,
 * the system's).  Returns NULL with *cause (caller frees, names the file)
 * when it cannot be read, holds no certificate or a broken one.  Free with
 * tls_trust_free.
 */
struct tls_trust *tls_trust_new(const char *file, char **cause);
/* The file tls_trust_new(NULL) reads: OpenSSL's default bundle. */
const char *tls_default_file(void);
/* Drop this reference; TLS contexts made from it keep the store alive. */
void tls_trust_free(struct tls_trust *t);
/* The file the certificates came from, and how many there are. */
const char *tls_trust_file(const struct tls_trust *t);
size_t tls_trust_count(const struct tls_trust *t);

/*
 * Set up ssl_ctx (an SSL_CTX, e.g. one libcurl made) for our client
 * connections: servers verified against t, TLS 1.2 or later, record
 * buffers given back while a connection is idle.  0 or -1.
 */
int tls_ctx_setup(struct tls_trust *t, void *ssl_ctx);
/* A new client SSL_CTX set up so, verifying peers; free with tls_ctx_free.
 * For libwebsockets' provided client context. */
void *tls_client_ctx(struct tls_trust *t);
void tls_ctx_free(void *ssl_ctx);

/* The verification result (an X509_V_ERR_ code, 0 = none) of an SSL
 * connection (NULL: 0). */
long tls_ssl_verify_result(void *ssl);

/* X509_V_ERR_HOSTNAME_MISMATCH, for a host name check made elsewhere (libcurl's) */
#define TLS_ERR_HOSTNAME 62

/*
 * One phrase for a certificate that failed verification with err, naming
 * the kind first: "untrusted issuer (unable to get local issuer
 * certificate)", "host name mismatch (...)", "expired (...)".
 */
void tls_cert_problem(long err, char *out, size_t outlen);

#endif
