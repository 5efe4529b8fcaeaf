/* test_tls: the trusted certificate authorities (one store, its bundle read
 * once and its certificates made only when a chain needs them), the errors
 * of a bundle that cannot be used, and the words for every kind of refused
 * certificate. */
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "testutil.h"
#include "tls.h"
#include "xmem.h"

static char *
temp_file(const char *text)
{
	char *path = xstrdup("/tmp/mb-tls-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* The system's bundle: every certificate indexed, none made yet; a chain
 * (here a root's own) verifies through the store, which then holds just the
 * certificate it needed. */
static void
test_system_bundle(void **st)
{
	(void)st;
	char *cause = NULL;
	struct tls_trust *t = tls_trust_new(NULL, &cause);
	assert_non_null(t);
	assert_string_equal(tls_trust_file(t), tls_default_file());
	FILE *f = fopen(tls_trust_file(t), "r");
	assert_non_null(f);
	size_t n = 0;
	X509 *root = NULL, *x;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (n++ == 10)
			root = x;
		else
			X509_free(x);
	}
	fclose(f);
	assert_int_equal(tls_trust_count(t), n);
	assert_non_null(root);

	SSL_CTX *ctx = tls_client_ctx(t);
	assert_non_null(ctx);
	tls_trust_free(t); /* the context keeps what it needs */
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	assert_int_equal(sk_X509_OBJECT_num(X509_STORE_get0_objects(store)), 0);
	for (int round = 0; round < 2; round++) {
		X509_STORE_CTX *v = X509_STORE_CTX_new();
		assert_int_equal(X509_STORE_CTX_init(v, store, root, NULL), 1);
		assert_int_equal(X509_verify_cert(v), 1);
		X509_STORE_CTX_free(v);
		assert_int_equal(sk_X509_OBJECT_num(X509_STORE_get0_objects(store)), 1);
	}
	X509_free(root);
	tls_ctx_free(ctx);
}

/* A bundle that cannot be used is an error that names the file and why. */
static void
test_bad_bundles(void **st)
{
	(void)st;
	static const char garbled[] = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
				      "-----END CERTIFICATE-----\n";
	char *empty = temp_file("# no certificates here\n"), *bad = temp_file(garbled);
	struct {
		const char *file, *want;
	} cases[] = {
	    {"/nonexistent/ca.pem", "/nonexistent/ca.pem: No such file or directory"},
	    {empty, "no certificate found"},
	    {bad, "certificate 1 cannot be read: "},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *cause = NULL;
		assert_null(tls_trust_new(cases[i].file, &cause));
		assert_non_null(cause);
		if (strstr(cause, cases[i].want) == NULL || strstr(cause, cases[i].file) == NULL)
			fail_msg("%s: %s", cases[i].file, cause);
		free(cause);
	}
	unlink(empty);
	unlink(bad);
	free(empty);
	free(bad);
}

/* Each kind of refused certificate, named first. */
static void
test_problems(void **st)
{
	(void)st;
	struct {
		long err;
		const char *kind;
	} rows[] = {
	    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "untrusted issuer ("},
	    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, "untrusted issuer ("},
	    {X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, "untrusted issuer ("},
	    {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "untrusted issuer (self-signed certificate"},
	    {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "untrusted issuer ("},
	    {X509_V_ERR_CERT_UNTRUSTED, "untrusted issuer ("},
	    {X509_V_ERR_HOSTNAME_MISMATCH, "host name mismatch (hostname mismatch)"},
	    {TLS_ERR_HOSTNAME, "host name mismatch ("},
	    {X509_V_ERR_IP_ADDRESS_MISMATCH, "host name mismatch (IP address mismatch)"},
	    {X509_V_ERR_CERT_HAS_EXPIRED, "expired (certificate has expired)"},
	    {X509_V_ERR_CERT_NOT_YET_VALID, "not yet valid ("},
	    {X509_V_ERR_CERT_REVOKED, "revoked ("},
	    {X509_V_ERR_CERT_SIGNATURE_FAILURE, "rejected (certificate signature failure)"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char out[160];
		tls_cert_problem(rows[i].err, out, sizeof out);
		if (strncmp(out, rows[i].kind, strlen(rows[i].kind)) != 0)
			fail_msg("error %ld: '%s', want '%s...'", rows[i].err, out, rows[i].kind);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_system_bundle),
	    cmocka_unit_test(test_bad_bundles),
	    cmocka_unit_test(test_problems),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
