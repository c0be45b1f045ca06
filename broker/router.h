/* broker/router.h: turns HTTP requests into API calls: authentication, X-Broker-API-Version,
 * routing, request identity, JSON responses, the request log line and metrics. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>

#include "common/osb_http.h"
#include "broker/api.h"
#include "broker/auth.h"
#include "broker/catalog.h"

struct router {
        struct api *api;                /* borrowed */
        const struct catalog *cat;      /* borrowed */
        const struct auth *auth;        /* borrowed */
        unsigned min_api_minor;         /* lowest 2.x accepted (default 13) */
        atomic_bool draining;           /* /readyz answers 503 while shutting down */
};

/* osb_http handler and completion hook; @userdata is a struct router. */
void router_handle(void *userdata, struct osb_http_request *req);
void router_done(void *userdata, struct osb_http_request *req);
/* The handler of the health listener (--health-port): /healthz, /readyz and /metrics, without
 * credentials as on the API port; any other path is 404. */
void router_handle_health(void *userdata, struct osb_http_request *req);
