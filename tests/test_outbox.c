/* test_outbox: the shared reply queue (order per conversation, retries,
 * rate limits, the bound, shutdown) with a recording fake platform and a
 * clock the test moves by hand; and the retry backoff it uses. */
#include "log.h"
#include "outbox.h"
#include "sys.h"
#include "testutil.h"
#include "xmem.h"

/* A fake platform: records every part it is asked to send. */
struct fake {
	struct ob_sender s;
	struct ob_item *sent[64]; /* the first 64 */
	size_t n;
	size_t cancelled;
	int instant; /* report OB_SENT before returning */
	struct outbox *ob;
	uint64_t now;
};

static void
fake_send(void *arg, struct ob_item *it)
{
	struct fake *f = arg;
	if (f->n < 64)
		f->sent[f->n] = it;
	f->n++;
	if (f->instant) {
		struct ob_result r = {OB_SENT, 0, 0, 0, NULL};
		outbox_done(f->ob, it, &r, f->now);
	}
}

static void
fake_cancel(void *arg, struct ob_item *it)
{
	(void)it;
	((struct fake *)arg)->cancelled++;
}

static void
fake_init(struct fake *f, struct outbox *ob, const char *name)
{
	memset(f, 0, sizeof *f);
	f->s.name = name;
	f->s.where = "chat";
	f->s.send = fake_send;
	f->s.cancel = fake_cancel;
	f->s.arg = f;
	f->ob = ob;
}

/* Ask, answer at once with nparts parts named after the question. */
static void
ask(struct outbox *ob, struct fake *f, const char *conv, const char *id, unsigned nparts)
{
	assert_int_equal(outbox_ask(ob, &f->s, conv, NULL, id, "question", 8, NULL), 0);
	struct ob_question *q = outbox_take(ob);
	assert_non_null(q);
	assert_string_equal(q->msg_id, id);
	for (unsigned i = 0; i < nparts; i++)
		outbox_part(ob, q, i, nparts, xasprintf("%s-%u", id, i), 4);
	outbox_answered(ob, q);
}

static void
done(struct outbox *ob, struct ob_item *it, enum ob_outcome o, uint64_t ms, uint64_t now)
{
	struct ob_result r = {o, ms, 0, 0, o == OB_SENT ? NULL : "HTTP 503"};
	outbox_done(ob, it, &r, now);
}

static void
test_order(void **st)
{
	(void)st;
	struct outbox *ob = outbox_new(100, 1 << 20);
	struct fake f;
	fake_init(&f, ob, "one");
	ask(ob, &f, "A", "1", 2);
	ask(ob, &f, "B", "2", 1);
	ask(ob, &f, "A", "3", 1);
	assert_int_equal(outbox_waiting(ob), 4);
	assert_int_equal(outbox_pump(ob, 1000), 0);
	/* one part in flight per conversation, the oldest first */
	assert_int_equal(f.n, 2);
	assert_int_equal(outbox_pump(ob, 1000), 0);
	assert_int_equal(f.n, 2); /* nothing more until those are done */
	struct ob_item *a = strcmp(f.sent[0]->conv_id, "A") == 0 ? f.sent[0] : f.sent[1];
	struct ob_item *b = a == f.sent[0] ? f.sent[1] : f.sent[0];
	assert_string_equal(a->body, "1-0");
	assert_string_equal(b->body, "2-0");
	done(ob, b, OB_SENT, 0, 1001);
	outbox_pump(ob, 1001);
	assert_int_equal(f.n, 2); /* B is empty; A still waits for part 0 */
	done(ob, a, OB_SENT, 0, 1002);
	outbox_pump(ob, 1002);
	assert_int_equal(f.n, 3);
	assert_string_equal(f.sent[2]->body, "1-1");
	assert_int_equal(f.sent[2]->part, 1);
	assert_int_equal(f.sent[2]->nparts, 2);
	done(ob, f.sent[2], OB_SENT, 0, 1003);
	outbox_pump(ob, 1003);
	assert_string_equal(f.sent[3]->body, "3-0");
	done(ob, f.sent[3], OB_SENT, 0, 1004);
	assert_int_equal(outbox_waiting(ob), 0);
	outbox_free(ob);
}

static void
test_retry_backoff(void **st)
{
	(void)st;
	struct outbox *ob = outbox_new(100, 1 << 20);
	struct fake f;
	fake_init(&f, ob, "one");
	ask(ob, &f, "A", "1", 2);
	ask(ob, &f, "A", "2", 1);
	uint64_t now = 5000;
	outbox_pump(ob, now);
	assert_int_equal(f.n, 1);
	/* a server error: the same part again after a backoff (0.25-0.5 s first) */
	done(ob, f.sent[0], OB_RETRY, 0, now);
	uint64_t at = outbox_pump(ob, now);
	assert_int_equal(f.n, 1);
	assert_true(at >= now + 250 && at <= now + 500);
	assert_int_equal(outbox_pump(ob, at - 1), at);
	assert_int_equal(f.n, 1);
	outbox_pump(ob, at);
	assert_int_equal(f.n, 2);
	assert_ptr_equal(f.sent[1], f.sent[0]); /* the same part, so the same nonce */
	/* after OB_MAX_ATTEMPTS tries the reply is given up, with its other part */
	for (int i = 1; i < OB_MAX_ATTEMPTS; i++) {
		now = at;
		done(ob, f.sent[f.n - 1], OB_RETRY, 0, now);
		at = outbox_pump(ob, now);
		if (i < OB_MAX_ATTEMPTS - 1) {
			assert_true(at > now);
			outbox_pump(ob, at);
		}
	}
	assert_int_equal(f.n, OB_MAX_ATTEMPTS + 1);
	assert_string_equal(f.sent[f.n - 1]->body, "2-0"); /* the next reply went */
	assert_int_equal(outbox_waiting(ob), 1);
	done(ob, f.sent[f.n - 1], OB_SENT, 0, now);
	assert_int_equal(outbox_waiting(ob), 0);
	outbox_free(ob);
}

static void
test_rate_limits(void **st)
{
	(void)st;
	struct outbox *ob = outbox_new(100, 1 << 20);
	struct fake f;
	fake_init(&f, ob, "one");
	ask(ob, &f, "A", "1", 1);
	ask(ob, &f, "A", "2", 1);
	ask(ob, &f, "B", "3", 1);
	ask(ob, &f, "B", "4", 1);
	outbox_pump(ob, 0);
	assert_int_equal(f.n, 2);
	struct ob_item *a = strcmp(f.sent[0]->conv_id, "A") == 0 ? f.sent[0] : f.sent[1];
	struct ob_item *b = a == f.sent[0] ? f.sent[1] : f.sent[0];
	/* 429 on A: A waits retry_ms, B goes on */
	done(ob, a, OB_LIMITED, 400, 10);
	/* B delivered, but its bucket is empty for 600 ms */
	struct ob_result held = {OB_SENT, 0, 0, 600, NULL};
	outbox_done(ob, b, &held, 10);
	assert_int_equal(outbox_pump(ob, 11), 410);
	assert_int_equal(f.n, 2);
	outbox_pump(ob, 410);
	assert_int_equal(f.n, 3);
	assert_string_equal(f.sent[2]->body, "1-0"); /* A retried, the same part */
	assert_int_equal(outbox_pump(ob, 411), 610);
	outbox_pump(ob, 610);
	assert_int_equal(f.n, 4);
	assert_string_equal(f.sent[3]->body, "4-0");
	/* a global 429 holds back every conversation of that platform */
	struct ob_result global = {OB_LIMITED, 1000, 1, 0, NULL};
	outbox_done(ob, f.sent[3], &global, 700);
	done(ob, f.sent[2], OB_SENT, 0, 700);
	assert_int_equal(outbox_pump(ob, 701), 1700);
	assert_int_equal(f.n, 4);
	outbox_pump(ob, 1700);
	assert_int_equal(f.n, 6); /* both conversations go again */
	struct ob_item *b4 = strcmp(f.sent[4]->body, "4-0") == 0 ? f.sent[4] : f.sent[5];
	done(ob, b4 == f.sent[4] ? f.sent[5] : f.sent[4], OB_SENT, 0, 1701);
	assert_string_equal(b4->body, "4-0");
	/* after OB_MAX_LIMITED rate limits the reply is given up */
	for (int i = 1; i < OB_MAX_LIMITED; i++) {
		done(ob, b4, OB_LIMITED, 1, 2000 + (uint64_t)i * 10);
		outbox_pump(ob, 2005 + (uint64_t)i * 10);
		assert_int_equal(f.n, 6 + (size_t)i);
		assert_ptr_equal(f.sent[f.n - 1], b4);
	}
	done(ob, b4, OB_LIMITED, 1, 3000);
	assert_int_equal(outbox_waiting(ob), 0);
	outbox_free(ob);
}

static void
test_refused(void **st)
{
	(void)st;
	struct outbox *ob = outbox_new(100, 1 << 20);
	struct fake f;
	fake_init(&f, ob, "one");
	ask(ob, &f, "A", "1", 3);
	ask(ob, &f, "A", "2", 1);
	outbox_pump(ob, 0);
	struct ob_result r = {OB_REFUSED, 0, 0, 0, "refused: HTTP 403"};
	outbox_done(ob, f.sent[0], &r, 1);
	assert_int_equal(outbox_waiting(ob), 1); /* parts 1 and 2 of "1" dropped too */
	outbox_pump(ob, 1);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.sent[1]->body, "2-0");
	outbox_free(ob);
}

/* The visitor left: that reply is dropped (all its parts), the next goes on. */
static void
test_gone(void **st)
{
	(void)st;
	struct outbox *ob = outbox_new(100, 1 << 20);
	struct fake f;
	fake_init(&f, ob, "one");
	ask(ob, &f, "A", "1", 2);
	ask(ob, &f, "A", "2", 1);
	outbox_pump(ob, 0);
	struct ob_result r = {OB_GONE, 0, 0, 0, "the visitor left"};
	outbox_done(ob, f.sent[0], &r, 1);
	assert_int_equal(outbox_waiting(ob), 1);
	outbox_pump(ob, 1);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.sent[1]->body, "2-0");
	outbox_done(ob, f.sent[1], &r, 2);
	assert_int_equal(outbox_waiting(ob), 0);
	outbox_free(ob);
}

static void
test_bound_and_shutdown(void **st)
{
	(void)st;
	struct outbox *ob = outbox_new(3, 1 << 20);
	struct fake f, g;
	fake_init(&f, ob, "one");
	fake_init(&g, ob, "two");
	assert_int_equal(outbox_ask(ob, &f.s, "A", NULL, "1", "q", 1, NULL), 0);
	assert_int_equal(outbox_ask(ob, &g.s, "A", NULL, "2", "q", 1, "q"), 0);
	assert_int_equal(outbox_ask(ob, &f.s, "B", NULL, "3", "q", 1, NULL), 0);
	assert_int_equal(outbox_ask(ob, &f.s, "C", NULL, "4", "q", 1, NULL), -1); /* shed */
	assert_int_equal(outbox_shed(ob), 1);
	assert_int_equal(outbox_waiting(ob), 3);
	/* the same conversation id on two platforms is two conversations */
	struct ob_question *q = outbox_take(ob);
	outbox_part(ob, q, 0, 1, xstrdup("x"), 1);
	outbox_answered(ob, q);
	q = outbox_take(ob);
	assert_ptr_equal(q->s, &g.s);
	assert_string_equal(q->log_text, "q");
	outbox_part(ob, q, 0, 1, xstrdup("y"), 1);
	outbox_answered(ob, q);
	outbox_pump(ob, 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(g.n, 1);
	assert_ptr_not_equal(f.sent[0]->conv, g.sent[0]->conv);
	/* a byte bound too */
	struct outbox *small = outbox_new(100, 300);
	assert_int_equal(outbox_ask(small, &f.s, "A", NULL, "1", "0123456789", 10, NULL), 0);
	char big[400];
	memset(big, 'a', sizeof big);
	assert_int_equal(outbox_ask(small, &f.s, "A", NULL, "2", big, sizeof big, NULL), -1);
	outbox_free(small);
	/* shutdown: the one in flight is cancelled, everything is let go */
	outbox_abandon(ob);
	assert_int_equal(f.cancelled, 1);
	assert_int_equal(g.cancelled, 1);
	assert_int_equal(outbox_waiting(ob), 0);
	outbox_free(ob);
}

static void
test_instant_sender_and_many_conversations(void **st)
{
	(void)st;
	struct outbox *ob = outbox_new(OB_MAX_ITEMS, OB_MAX_BYTES);
	struct fake f;
	fake_init(&f, ob, "web");
	f.instant = 1;
	ask(ob, &f, "A", "1", 3);
	/* a sender that finishes at once: the next part may go at once too */
	uint64_t at = outbox_pump(ob, 50);
	assert_int_equal(f.n, 1);
	assert_int_equal(at, 50);
	outbox_pump(ob, 50);
	outbox_pump(ob, 50);
	assert_int_equal(f.n, 3);
	assert_int_equal(outbox_pump(ob, 50), 0);
	assert_int_equal(outbox_waiting(ob), 0);
	/* 10,000 conversations come and go without leaving anything behind */
	for (int i = 0; i < 10000; i++) {
		char conv[16];
		snprintf(conv, sizeof conv, "c%d", i);
		assert_int_equal(outbox_ask(ob, &f.s, conv, NULL, "9", "q", 1, NULL), 0);
		struct ob_question *q = outbox_take(ob);
		outbox_part(ob, q, 0, 1, xstrdup("z"), 1);
		outbox_answered(ob, q);
	}
	f.n = 0;
	outbox_pump(ob, 60);
	assert_int_equal(f.n, 10000);
	assert_int_equal(outbox_waiting(ob), 0);
	outbox_free(ob);
}

/* A burst of 5,000 questions of two parts each: the slabs that hold them
 * grow with it and go once it has drained; text comes back as given, and a
 * part too big for a slab works too. */
static void
test_burst_storage(void **st)
{
	(void)st;
	struct outbox *ob = outbox_new(OB_MAX_ITEMS, OB_MAX_BYTES);
	struct fake f;
	fake_init(&f, ob, "discord");
	char body[800], id[16];
	memset(body, 'b', sizeof body);
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof id, "%d", i);
		assert_int_equal(
		    outbox_ask(ob, &f.s, "A", NULL, id, "a question", 10, "a question"), 0);
	}
	size_t peak = outbox_slabs(ob);
	assert_true(peak >= 5000 * sizeof(struct ob_question) / (64 << 10)); /* packed in slabs */
	for (int i = 0; i < 5000; i++) {
		struct ob_question *q = outbox_take(ob);
		assert_non_null(q);
		assert_string_equal(q->text, "a question");
		assert_string_equal(q->log_text, "a question");
		for (unsigned part = 0; part < 2; part++) {
			char *b = xmalloc(sizeof body + 1);
			memcpy(b, body, sizeof body);
			b[sizeof body] = '\0';
			outbox_part(ob, q, part, 2, b, sizeof body);
		}
		outbox_answered(ob, q);
	}
	assert_true(outbox_slabs(ob) >= 5000 * 2 * sizeof body / (64 << 10));
	char *big = xmalloc(40001); /* bigger than a slab takes: on its own */
	memset(big, 'g', 40000);
	big[40000] = '\0';
	assert_int_equal(outbox_ask(ob, &f.s, "B", NULL, "big", "q", 1, NULL), 0);
	struct ob_question *q = outbox_take(ob);
	outbox_part(ob, q, 0, 1, big, 40000);
	outbox_answered(ob, q);
	outbox_pump(ob, 100); /* the heads of A and B */
	assert_int_equal(f.n, 2);
	for (int i = 0; i < 2; i++) {
		struct ob_item *it = f.sent[i];
		size_t want = strcmp(it->conv_id, "A") == 0 ? sizeof body : 40000;
		assert_int_equal(it->len, want);
		assert_int_equal(strlen(it->body), want);
		assert_true(it->body[0] == (want == 40000 ? 'g' : 'b'));
		/* sent again in another form, twice: the new bodies are kept */
		outbox_rebody(it, xstrdup("another form"), 12);
		outbox_rebody(it, xstrdup("a third form"), 12);
		done(ob, it, OB_RETRY, 0, 100);
		outbox_pump(ob, 100000);
		assert_ptr_equal(f.sent[2 + i], it);
		assert_string_equal(it->body, "a third form");
		done(ob, it, OB_SENT, 0, 100000);
	}
	f.instant = 1;
	for (int turn = 0; turn < 20000 && outbox_waiting(ob); turn++)
		outbox_pump(ob, 100);
	assert_int_equal(outbox_waiting(ob), 0);
	assert_int_equal(f.n, 10003);
	assert_true(outbox_slabs(ob) <= 1); /* the one being filled, emptied */
	outbox_free(ob);
}

static void
test_backoff(void **st)
{
	(void)st;
	/* doubles from 0.5-1 s and is capped at 60 s */
	assert_int_equal(sys_backoff_ms(0, 0), 500);
	assert_int_equal(sys_backoff_ms(0, 500), 1000);
	assert_int_equal(sys_backoff_ms(1, 0), 1000);
	assert_int_equal(sys_backoff_ms(5, 0), 16000);
	uint32_t rng = 1;
	for (unsigned a = 0; a < 100; a++)
		for (int r = 0; r < 20; r++) {
			unsigned d = sys_backoff_ms(a, sys_jitter(&rng));
			assert_true(d >= 500 && d <= 60000);
		}
	assert_true(sys_backoff_ms(50, 0) >= 30000);
}

int
main(void)
{
	log_init(LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_retry_backoff),
	    cmocka_unit_test(test_rate_limits),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_gone),
	    cmocka_unit_test(test_bound_and_shutdown),
	    cmocka_unit_test(test_instant_sender_and_many_conversations),
	    cmocka_unit_test(test_burst_storage),
	    cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests_name("outbox", tests, NULL, NULL);
}
