/*
 * clinic: the clinic profile (knowledge/clinic.yaml: name, phone, opening
 * hours, prices, ...) and the placeholders answers quote it with
 * ({{clinic.phone}}).  A value left empty never produces text: a line of an
 * answer that uses one is left out, and the answer then says how to contact
 * the clinic instead.  Pure: no I/O; errors and warnings are added to the
 * caller's lists as file:line:col.  A struct clinic belongs to its holder;
 * free it with clinic_free().
 */
#ifndef CLINIC_H
#define CLINIC_H

#include <stddef.h>

#include "kb_parse.h"

#define CLINIC_FILE "clinic.yaml" /* in the knowledge folder's top level */
#define CLINIC_VALUE_MAX 500      /* code points in one value */
#define CLINIC_TREATMENTS_MAX 40  /* rows of the price list */
#define CLINIC_LENGTHS_MAX 10     /* lengths (with a price each) of one treatment */
#define CLINIC_FILLED_MAX 4000    /* code points of an answer once filled in */

/* The values a placeholder can name: {{clinic.<name>}}, names in clinic.c. */
enum clinic_value {
	CV_NAME,
	CV_BOOKING_URL,
	CV_PHONE,
	CV_EMAIL,
	CV_ADDRESS,
	CV_DIRECTIONS,
	CV_PARKING,
	CV_ACCESSIBILITY,
	CV_CANCELLATION,
	CV_PAYMENT,
	CV_INSURANCE,
	CV_VOUCHERS,
	CV_LANGUAGES,
	CV_REACH_A_PERSON,
	CV_HOURS, /* a list, one line a weekday; empty unless all seven are filled */
	CV_MONDAY,
	CV_TUESDAY,
	CV_WEDNESDAY,
	CV_THURSDAY,
	CV_FRIDAY,
	CV_SATURDAY,
	CV_SUNDAY,
	CV_PRICES,  /* a list, one line a treatment; empty if any price is */
	CV_LENGTHS, /* the session lengths in the price list: "30 minutes or 60 minutes" */
	CV_CONTACT, /* a sentence on how to reach the clinic; never empty */
	CV_N
};

struct clinic {
	char *file;          /* the profile's path; NULL when there is none */
	int example;         /* 'example: true': the shipped, made-up profile */
	char *v[CV_N];       /* rendered values, "" when empty; owned */
	unsigned line[CV_N]; /* where each value was set, 0 if it was not */
};

/* A profile with every value empty (the folder has no clinic.yaml). */
void clinic_init(struct clinic *c);

/*
 * Parse a clinic.yaml.  Always leaves c usable (values it could not read are
 * empty).  Returns 0, or -1 after adding problems to pr.  Empty or missing
 * values and an example profile are added to warn.
 */
int clinic_parse(const char *file, const char *buf, size_t len, struct clinic *c,
		 struct problems *pr, struct problems *warn);

/*
 * Fill the placeholders of an answer body (file, first body line
 * body_line).  Returns the filled text (caller frees), or NULL after adding
 * a problem (unknown placeholder, unclosed '{{', too long) with its
 * file:line:col.  *used (if not NULL) is set when the body has placeholders.
 */
char *clinic_fill(const struct clinic *c, const char *file, unsigned body_line, const char *body,
		  int *used, struct problems *pr);

void clinic_free(struct clinic *c);

#endif
