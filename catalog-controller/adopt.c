/* catalog-controller/adopt.c: adoption's GET of what the broker already holds (adopt.h). */
#include "common/osb_compat.h"

#include <errno.h>
#include <stdio.h>

#include "common/osb_mem.h"
#include "catalog-controller/adopt.h"
#include "catalog-controller/osb_response.h"
#include "catalog-controller/request.h"

int adopt_fetch(struct pass *p, const char *iid, const char *bid, struct osb_response *resp,
                enum adopt_fetched *ret, char *msg, size_t size, struct osb_error *err)
{
        const char *what = bid ? "binding" : "instance";
        const char *reason = bid ? "ErrorAdoptingBinding" : "ErrorAdoptingInstance";
        *ret = ADOPT_FETCHED_LATER;
        *resp = (struct osb_response) {.retry_after_s = -1};
        osb_autofree char *identity = NULL;
        int r = request_call(p, &identity, err);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                pass_log(p, OSB_LOG_INFO, bid ? "fetching the binding to adopt" : "fetching the instance to adopt", NULL);
                r = osb_client_fetch(p->oc, iid, bid, identity, resp, err);
        }
        if (pass_busy(p, &r) || r == -ECANCELED || r == -ENOMEM)
                return r == -ENOMEM ? r : 0;
        if (r < 0) {
                (void) snprintf(msg, size, "Error adopting the %s: %s", what, err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return pass_retry(p, "False", reason, msg, err);
        }
        if (resp->status == 404 || resp->status == 410) {
                (void) snprintf(msg, size, "Cannot adopt %s %s: the broker does not hold it (HTTP %ld)", what,
                                bid ? bid : iid, resp->status);
                osb_response_release(resp);
                *ret = ADOPT_FETCHED_ABSENT;
                return 0;
        }
        if (resp->status != 200) {
                /* 422 ConcurrencyError (an operation runs there), 5xx: try again later */
                char d[1000];
                osb_response_describe(resp, d, sizeof(d));
                osb_response_release(resp);
                (void) snprintf(msg, size, "Error adopting the %s: %s", what, d);
                return pass_retry(p, "False", reason, msg, err);
        }
        *ret = ADOPT_FETCHED_HELD;
        return 0;
}
