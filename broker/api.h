/* broker/api.h: the OSB v2.17 endpoints as functions, independent of HTTP: each takes the
 * decoded path ids, query flags and body, decides everything that needs the stored state inside
 * one transaction, and fills an api_response (status, JSON body, Retry-After). A 4xx answer
 * never changes stored state. */
#pragma once

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/catalog.h"
#include "broker/ops.h"
#include "broker/store.h"

struct api {
        const struct catalog *cat;  /* borrowed */
        struct ops *ops;            /* borrowed; NULL: async operations stay queued in the store */
        const char *db_path;        /* borrowed */
        enum store_sync sync;
        pthread_key_t store_key;    /* each thread's store handle */
        int64_t sync_timeout_ms;    /* how long a synchronous request to a blocking backend
                                     * waits out "not finished" answers (api_init: 50 s) */
};

struct api_response {
        unsigned status;
        json_t *body;               /* new; always a JSON object once filled */
        int64_t retry_after_s;      /* Retry-After header; -1 for none */
};

/* Returns 0 or -EAGAIN. api_release() closes nothing of other threads: each thread's store is
 * closed when that thread exits. */
int api_init(struct api *api, const struct catalog *cat, struct ops *ops, const char *db_path,
             enum store_sync sync);
void api_release(struct api *api);
/* This thread's store handle, opened on first use. Borrowed. NULL with @err on failure. */
struct store *api_store(struct api *api, struct osb_error *err);

void api_response_release(struct api_response *resp);
/* Fills @resp with the OSB error body for @err (status from the error table). */
void api_response_error(struct api_response *resp, const struct osb_error *err);

void api_provision(struct api *api, struct store *st, const char *instance_id,
                   bool accepts_incomplete, const char *body, size_t len, struct api_response *resp);
void api_update(struct api *api, struct store *st, const char *instance_id,
                bool accepts_incomplete, const char *body, size_t len, struct api_response *resp);
void api_deprovision(struct api *api, struct store *st, const char *instance_id,
                     bool accepts_incomplete, const char *service_id, const char *plan_id,
                     struct api_response *resp);
void api_get_instance(struct api *api, struct store *st, const char *instance_id,
                      struct api_response *resp);
void api_instance_last_operation(struct api *api, struct store *st, const char *instance_id,
                                 const char *operation, struct api_response *resp);
void api_bind(struct api *api, struct store *st, const char *instance_id, const char *binding_id,
              bool accepts_incomplete, const char *body, size_t len, struct api_response *resp);
void api_unbind(struct api *api, struct store *st, const char *instance_id, const char *binding_id,
                bool accepts_incomplete, const char *service_id, const char *plan_id,
                struct api_response *resp);
void api_get_binding(struct api *api, struct store *st, const char *instance_id,
                     const char *binding_id, struct api_response *resp);
void api_binding_last_operation(struct api *api, struct store *st, const char *instance_id,
                                const char *binding_id, const char *operation,
                                struct api_response *resp);
