/* test_convo: the conversation memory: what it keeps, for how long, how
 * many, which it forgets first, and that its memory is fixed. */
#include "convo.h"
#include "testutil.h"

#define MIN (60u * 1000u)

static void
mem_of(struct convo_memory *m, const char *answer, const char *c1, const char *c2)
{
	memset(m, 0, sizeof *m);
	snprintf(m->answer, sizeof m->answer, "%s", answer);
	if (c1)
		snprintf(m->choices[m->nchoices++], CONVO_ID_MAX, "%s", c1);
	if (c2)
		snprintf(m->choices[m->nchoices++], CONVO_ID_MAX, "%s", c2);
}

static int
has(struct convo *c, const char *key, uint64_t now, const char *answer)
{
	struct convo_memory m;
	int got = convo_get(c, key, strlen(key), now, &m);
	return got && strcmp(m.answer, answer) == 0;
}

static void
test_remembers_per_conversation(void **st)
{
	(void)st;
	struct convo *c = convo_new(16, 10 * MIN);
	struct convo_memory m, out;
	assert_int_equal(convo_get(c, "dm:1", 4, 0, &out), 0);
	assert_string_equal(out.answer, "");
	assert_int_equal(out.nchoices, 0);
	mem_of(&m, "swedish-massage", "deep-tissue-massage", "sports-massage");
	convo_put(c, "dm:1", 4, &m, 1000);
	mem_of(&m, "prices", NULL, NULL);
	convo_put(c, "dm:2", 4, &m, 1000);
	assert_int_equal(convo_get(c, "dm:1", 4, 2000, &out), 1);
	assert_string_equal(out.answer, "swedish-massage");
	assert_int_equal(out.nchoices, 2);
	assert_string_equal(out.choices[1], "sports-massage");
	assert_true(has(c, "dm:2", 2000, "prices"));
	/* a new message replaces what was kept */
	mem_of(&m, "booking", NULL, NULL);
	convo_put(c, "dm:1", 4, &m, 3000);
	assert_int_equal(convo_get(c, "dm:1", 4, 3000, &out), 1);
	assert_string_equal(out.answer, "booking");
	assert_int_equal(out.nchoices, 0);
	assert_int_equal(convo_count(c), 2);
	convo_free(c);
}

static void
test_forgets_after_ttl(void **st)
{
	(void)st;
	struct convo *c = convo_new(16, 10 * MIN);
	struct convo_memory m;
	mem_of(&m, "prices", NULL, NULL);
	convo_put(c, "web:abc", 7, &m, 5000);
	assert_true(has(c, "web:abc", 5000 + 10 * MIN, "prices")); /* 10 minutes: still */
	assert_false(has(c, "web:abc", 5000 + 10 * MIN + 1, "prices"));
	assert_int_equal(convo_count(c), 0); /* and the place is free again */
	/* each message starts the ten minutes again */
	convo_put(c, "web:abc", 7, &m, 0);
	convo_put(c, "web:abc", 7, &m, 9 * MIN);
	assert_true(has(c, "web:abc", 18 * MIN, "prices"));
	/* a put reclaims every memory past its time */
	convo_put(c, "web:x", 5, &m, 0);
	convo_put(c, "web:y", 5, &m, 30 * MIN);
	assert_int_equal(convo_count(c), 1);
	convo_free(c);
}

static void
test_forgets_the_quietest_first(void **st)
{
	(void)st;
	struct convo *c = convo_new(3, 10 * MIN);
	struct convo_memory m;
	mem_of(&m, "a", NULL, NULL);
	convo_put(c, "k1", 2, &m, 1);
	convo_put(c, "k2", 2, &m, 2);
	convo_put(c, "k3", 2, &m, 3);
	convo_put(c, "k1", 2, &m, 4); /* k1 spoke again: k2 is now the quietest */
	convo_put(c, "k4", 2, &m, 5);
	assert_int_equal(convo_count(c), 3);
	assert_true(has(c, "k1", 6, "a"));
	assert_false(has(c, "k2", 6, "a"));
	assert_true(has(c, "k3", 6, "a"));
	assert_true(has(c, "k4", 6, "a"));
	convo_free(c);
}

/* Many conversations through a small store: never more than it holds, its
 * memory never grows, and the most recent ones are all there. */
static void
test_bounded(void **st)
{
	(void)st;
	enum { MAX = 64, N = 20000 };
	struct convo *c = convo_new(MAX, 10 * MIN);
	size_t bytes = convo_bytes(c);
	struct convo_memory m;
	char key[32];
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof key, "guild:7:user:%d", i);
		snprintf(m.answer, sizeof m.answer, "answer-%d", i);
		m.nchoices = 0;
		convo_put(c, key, strlen(key), &m, (uint64_t)i);
		assert_true(convo_count(c) <= MAX);
	}
	assert_int_equal(convo_bytes(c), bytes);
	for (int i = N - MAX; i < N; i++) {
		char want[32];
		snprintf(key, sizeof key, "guild:7:user:%d", i);
		snprintf(want, sizeof want, "answer-%d", i);
		assert_true(has(c, key, N, want));
	}
	snprintf(key, sizeof key, "guild:7:user:%d", N - MAX - 1);
	assert_false(has(c, key, N, "answer-0"));
	convo_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_remembers_per_conversation),
	    cmocka_unit_test(test_forgets_after_ttl),
	    cmocka_unit_test(test_forgets_the_quietest_first),
	    cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
