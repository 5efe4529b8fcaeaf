/* test_keysort: the key sort against qsort, on every size from none to
 * well past the insertion sort's, with repeats and extremes. */
#include "keysort.h"
#include "testutil.h"

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void
test_as_qsort(void **st)
{
	(void)st;
	enum { MAX = 300 };
	uint64_t v[MAX], want[MAX], tmp[MAX];
	uint64_t x = 88172645463325252ULL;
	for (size_t n = 0; n <= MAX; n++) {
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* a narrow range now and then: many equal keys */
			v[i] = n % 3 == 0 ? x % 8 : i % 50 == 0 ? UINT64_MAX : x;
		}
		memcpy(want, v, n * sizeof *v);
		qsort(want, n, sizeof *want, cmp_u64);
		keysort(v, tmp, n);
		assert_memory_equal(v, want, n * sizeof *v);
	}
}

/* Already sorted and reversed input, both paths. */
static void
test_ordered(void **st)
{
	(void)st;
	uint64_t v[40], tmp[40];
	for (size_t n = 1; n <= 40; n += 39) {
		for (size_t i = 0; i < n; i++)
			v[i] = n - i;
		keysort(v, tmp, n);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(v[i], i + 1);
		keysort(v, tmp, n);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(v[i], i + 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_as_qsort),
	    cmocka_unit_test(test_ordered),
	};
	return cmocka_run_group_tests_name("keysort", tests, NULL, NULL);
}
