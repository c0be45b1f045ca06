/* catalog-controller/adopt.h: adoption's question to the broker, shared by instances and
 * bindings: GET what spec.externalID names (the instance, or a binding of it) and sort the answer
 * into "it holds it" (the 200 to read), "it does not" (404, 410: the adoption is refused) and
 * "ask again later" (no answer, 422, 5xx: a retry recorded on the pass). */
#pragma once

#include <stddef.h>

#include "common/osb_error.h"
#include "catalog-controller/osb_client.h"
#include "catalog-controller/pass.h"

enum adopt_fetched {
        ADOPT_FETCHED_HELD,     /* the broker's 200 answer is in the response: read it, release it */
        ADOPT_FETCHED_ABSENT,   /* the broker does not hold it: the message says so */
        ADOPT_FETCHED_LATER,    /* the pass is done for now (a retry recorded, or the broker busy):
                                 * return what adopt_fetch() returned */
};

/* Fetches instance @iid (@bid NULL) or binding @bid of instance @iid for pass @p. Sets @ret to
 * what came of it, and @resp (ADOPT_FETCHED_HELD) or @msg (ADOPT_FETCHED_ABSENT). Returns what
 * the pass returns: 0, or a negative code with @err set (out of memory, a status write that
 * failed). Nothing the broker sent is quoted into @msg or a condition. */
int adopt_fetch(struct pass *p, const char *iid, const char *bid, struct osb_response *resp,
                enum adopt_fetched *ret, char *msg, size_t size, struct osb_error *err);
