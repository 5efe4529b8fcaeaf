/*
 * tls: one store of trusted certificate authorities for every TLS
 * connection of the process (see tls.h).  The only file that includes
 * OpenSSL's headers.
 */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "xmem.h"

_Static_assert(TLS_ERR_HOSTNAME == X509_V_ERR_HOSTNAME_MISMATCH, "TLS_ERR_HOSTNAME");

/*
 * The bundle's certificates are kept as DER bytes, indexed by the hash of
 * their subject name, and turned into OpenSSL objects only when a chain
 * needs one as its issuer (a lookup method of the store, as OpenSSL's
 * hashed directory does with files): a system bundle parsed whole takes
 * about 900 KB, its DER bytes about 200 KB.  Once made, an issuer stays in
 * the store.  The bundle belongs to the store's lookup and goes with it, so
 * the store stays whole as long as any TLS context holds it.
 */
struct anchor {
	unsigned long hash; /* X509_NAME_hash_ex of the subject */
	size_t off, len;    /* in der */
};

struct bundle {
	X509_LOOKUP_METHOD *method;
	unsigned char *der;
	size_t der_len, der_cap;
	struct anchor *a;
	size_t n, cap;
};

struct tls_trust {
	X509_STORE *store; /* our reference */
	char *file;
	size_t count;
};

static void
bundle_free(struct bundle *b)
{
	if (b == NULL)
		return;
	X509_LOOKUP_meth_free(b->method);
	free(b->der);
	free(b->a);
	free(b);
}

/* The store frees its lookup: the bundle goes too (the method is not used
 * after this call). */
static void
lookup_free(X509_LOOKUP *lu)
{
	bundle_free(X509_LOOKUP_get_method_data(lu));
}

static int
by_subject(X509_LOOKUP *lu, X509_LOOKUP_TYPE type, const X509_NAME *name, X509_OBJECT *ret)
{
	const struct bundle *b = X509_LOOKUP_get_method_data(lu);
	X509_STORE *store = X509_LOOKUP_get_store(lu);
	if (type != X509_LU_X509 || b == NULL || store == NULL)
		return 0;
	unsigned long h = X509_NAME_hash_ex(name, NULL, NULL, NULL);
	int found = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (b->a[i].hash != h)
			continue;
		const unsigned char *p = b->der + b->a[i].off;
		/* AUX: a TRUSTED CERTIFICATE's trust settings follow its DER */
		X509 *x = d2i_X509_AUX(NULL, &p, (long)b->a[i].len);
		if (x && X509_NAME_cmp(X509_get_subject_name(x), name) == 0 &&
		    X509_STORE_add_cert(store, x) == 1) /* a copy already there is fine */
			found = 1;
		X509_free(x);
	}
	if (!found)
		return 0;
	/* as OpenSSL's hashed directory: ret borrows the store's copy (the
	 * caller takes its own reference) */
	int ok = 0;
	if (X509_STORE_lock(store)) {
		X509_OBJECT *o = X509_OBJECT_retrieve_by_subject(X509_STORE_get0_objects(store),
								 X509_LU_X509, name);
		X509 *x = o ? X509_OBJECT_get0_X509(o) : NULL;
		if (x && X509_OBJECT_set1_X509(ret, x)) {
			X509_free(x); /* set1 took a reference: the store keeps its own */
			ok = 1;
		}
		X509_STORE_unlock(store);
	}
	return ok;
}

/* Read every certificate of the PEM file path into b; -1 with *cause. */
static int
read_bundle(struct bundle *b, const char *path, char **cause)
{
	BIO *in = BIO_new_file(path, "r");
	if (in == NULL) {
		*cause =
		    xasprintf("cannot read the trusted certificates %s: %s", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	X509 *x;
	ERR_clear_error();
	while ((x = PEM_read_bio_X509_AUX(in, NULL, NULL, NULL)) != NULL) {
		int len = i2d_X509_AUX(x, NULL);
		if (len > 0) {
			b->der = xgrow(b->der, &b->der_cap, b->der_len + (size_t)len, 1);
			unsigned char *p = b->der + b->der_len;
			i2d_X509_AUX(x, &p);
			b->a = xgrow(b->a, &b->cap, b->n + 1, sizeof *b->a);
			b->a[b->n].hash =
			    X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, NULL);
			b->a[b->n].off = b->der_len;
			b->a[b->n].len = (size_t)len;
			b->n++;
			b->der_len += (size_t)len;
		}
		X509_free(x);
	}
	unsigned long e = ERR_peek_last_error();
	if (e && ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		const char *why = ERR_reason_error_string(e);
		*cause = xasprintf("cannot load the trusted certificates %s: certificate %zu "
				   "cannot be read: %s",
				   path, b->n + 1, why ? why : "unknown reason");
		rc = -1;
	} else if (b->n == 0) {
		*cause = xasprintf("cannot load the trusted certificates %s: no certificate found",
				   path);
		rc = -1;
	}
	ERR_clear_error();
	BIO_free(in);
	return rc;
}

void
tls_init(void)
{
	/* the first call decides: later ones asking for the texts are no-ops */
	OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_SSL_STRINGS | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS,
			 NULL);
}

const char *
tls_default_file(void)
{
	return X509_get_default_cert_file();
}

struct tls_trust *
tls_trust_new(const char *file, char **cause)
{
	const char *path = file && *file ? file : tls_default_file();
	struct bundle *b = xcalloc(1, sizeof *b);
	if (read_bundle(b, path, cause) < 0) {
		bundle_free(b);
		return NULL;
	}
	b->der = xrealloc(b->der, b->der_len);
	b->a = xrealloc(b->a, b->n * sizeof *b->a);
	b->method = X509_LOOKUP_meth_new("massagebot bundle");
	X509_STORE *store = X509_STORE_new();
	if (b->method == NULL || store == NULL)
		abort(); /* out of memory, as xmalloc */
	X509_LOOKUP_meth_set_get_by_subject(b->method, by_subject);
	X509_LOOKUP_meth_set_free(b->method, lookup_free);
	X509_LOOKUP *lu = X509_STORE_add_lookup(store, b->method);
	if (lu == NULL)
		abort();
	X509_LOOKUP_set_method_data(lu, b); /* the lookup owns b from here */
	struct tls_trust *t = xcalloc(1, sizeof *t);
	t->store = store;
	t->file = xstrdup(path);
	t->count = b->n;
	return t;
}

void
tls_trust_free(struct tls_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store); /* the last reference frees the bundle */
	free(t->file);
	free(t);
}

const char *
tls_trust_file(const struct tls_trust *t)
{
	return t->file;
}

size_t
tls_trust_count(const struct tls_trust *t)
{
	return t->count;
}

int
tls_ctx_setup(struct tls_trust *t, void *ssl_ctx)
{
	if (!X509_STORE_up_ref(t->store))
		return -1;
	SSL_CTX_set_cert_store(ssl_ctx, t->store); /* takes our reference */
	SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
	/* an idle connection gives back its 2 x 16 KB record buffers */
	SSL_CTX_set_mode(ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

void *
tls_client_ctx(struct tls_trust *t)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (tls_ctx_setup(t, ctx) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

void
tls_ctx_free(void *ssl_ctx)
{
	SSL_CTX_free(ssl_ctx);
}

long
tls_ssl_verify_result(void *ssl)
{
	return ssl ? SSL_get_verify_result(ssl) : 0;
}

/* The kinds a failed certificate is put in, first match wins. */
static const struct {
	long err;
	const char *kind;
} kinds[] = {
    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "untrusted issuer"},
    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, "untrusted issuer"},
    {X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, "untrusted issuer"},
    {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "untrusted issuer"},
    {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "untrusted issuer"},
    {X509_V_ERR_CERT_UNTRUSTED, "untrusted issuer"},
    {X509_V_ERR_HOSTNAME_MISMATCH, "host name mismatch"},
    {X509_V_ERR_IP_ADDRESS_MISMATCH, "host name mismatch"},
    {X509_V_ERR_CERT_HAS_EXPIRED, "expired"},
    {X509_V_ERR_CERT_NOT_YET_VALID, "not yet valid"},
    {X509_V_ERR_CERT_REVOKED, "revoked"},
};

void
tls_cert_problem(long err, char *out, size_t outlen)
{
	const char *kind = "rejected";
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (kinds[i].err == err) {
			kind = kinds[i].kind;
			break;
		}
	snprintf(out, outlen, "%s (%s)", kind, X509_verify_cert_error_string(err));
}
