/* test/apiserver/api.h: Kubernetes REST semantics over the store, independent of HTTP: create,
 * get, list, update (also /status and /finalize), patch, delete (finalizers, propagation
 * policies), deletecollection, watch, and the background controllers a real control plane runs
 * (garbage collector, namespace and CRD cleanup). Every operation returns the HTTP status and a
 * body: the object, a list, or a kube-apiserver Status. Thread-safe. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "test/apiserver/store.h"
#include "test/apiserver/types.h"

struct api {
        struct store *st;
        struct types *types;
        char *root_ca;           /* kube-root-ca.crt's ca.crt, or "" */
        pthread_t gc_thread;
        bool gc_running;
        /* the controllers' thread's (store lock held): owner uid -> dependents, and its
         * watch of every change (api.c) */
        json_t *gc_owners;
        struct store_watch *gc_watch;
        atomic_bool stopping;
};

/* What a request addresses. */
struct api_target {
        struct kt_type *type;   /* borrowed */
        const char *ns;         /* NULL or "": cluster-scoped, or every namespace for lists */
        const char *name;       /* NULL for the collection */
        const char *sub;        /* NULL, "status" or "finalize" */
};

struct api_opts {
        bool dry_run;                  /* dryRun=All */
        const char *field_validation;  /* NULL, "Ignore", "Warn", "Strict" */
        const char *label_selector;
        const char *field_selector;
        const char *propagation;       /* query propagationPolicy (DELETE) */
        int64_t grace_seconds;         /* -1 when absent */
        int64_t limit;                 /* 0: no limit */
        const char *cont;              /* continue token */
        const char *resource_version;  /* list/watch resourceVersion */
        int64_t timeout_seconds;       /* watch; 0: the server's default */
        bool allow_bookmarks;
        bool table;                    /* watch events carry Tables */
        const char *include_object;    /* Table rows: None, Metadata, Object */
};

#define API_OPTS_INIT {.grace_seconds = -1}

struct api_result {
        unsigned code;
        json_t *body;            /* new; object, list or Status */
        char warning[512];       /* a Warning header value, or "" */
};

void api_result_release(struct api_result *res);

/* Creates the store with the default namespaces (default, kube-system, kube-public, each with
 * its default ServiceAccount and kube-root-ca.crt ConfigMap). @history: events kept for watches.
 * Returns 0 or -ENOMEM. */
int api_new(size_t history, const char *root_ca, struct api **ret);
struct api *api_free(struct api *a);  /* stops the controllers first; NULL-safe */

/* Starts / stops the background controllers (garbage collector, namespace and CRD cleanup).
 * Returns 0 or -errno. */
int api_start_controllers(struct api *a);
void api_stop_controllers(struct api *a);
/* Runs the controllers once, synchronously (tests). Returns the number of changes made. */
int api_controllers_pass(struct api *a);

/* A Status body: {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...}.
 * @details may be NULL (stolen). New reference or NULL on OOM. */
json_t *api_status(unsigned code, const char *reason, json_t *details, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Fills @res with a Status and returns @code. */
unsigned api_fail(struct api_result *res, unsigned code, const char *reason, json_t *details,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

unsigned api_get(struct api *a, const struct api_target *t, const struct api_opts *o, struct api_result *res);
unsigned api_list(struct api *a, const struct api_target *t, const struct api_opts *o, struct api_result *res);
/* @obj: the decoded body (borrowed). */
unsigned api_create(struct api *a, const struct api_target *t, const json_t *obj, const struct api_opts *o,
                    struct api_result *res);
unsigned api_update(struct api *a, const struct api_target *t, const json_t *obj, const struct api_opts *o,
                    struct api_result *res);
/* @content_type: the patch media type (parameters ignored). */
unsigned api_patch(struct api *a, const struct api_target *t, const char *content_type, const json_t *patch,
                   const struct api_opts *o, struct api_result *res);
/* @delopts: a DeleteOptions body or NULL. */
unsigned api_delete(struct api *a, const struct api_target *t, const json_t *delopts, const struct api_opts *o,
                    struct api_result *res);
unsigned api_delete_collection(struct api *a, const struct api_target *t, const json_t *delopts,
                               const struct api_opts *o, struct api_result *res);

/* How long a list from a resourceVersion the server does not have yet waits for it. */
#define API_TOO_LARGE_WAIT_MS 3000
/* Fills @res with kube-apiserver's "Too large resource version: WANT, current: CURRENT" (504
 * Timeout, cause ResourceVersionTooLarge, retryAfterSeconds 1). Returns 504. */
unsigned api_too_large_rv(struct api_result *res, uint64_t want, uint64_t current);

/* Whether CRDs of @group need the api-approved.kubernetes.io annotation (k8s.io, *.k8s.io,
 * kubernetes.io, *.kubernetes.io), as kube-apiserver decides. */
bool api_is_protected_group(const char *group);

/* ---- watch ---- */
struct api_watch;
/* Opens a watch. Returns 0 with *ret, or an HTTP status with @res filled (400 bad selector).
 * A too old resourceVersion is not an error here: the watch's first event is then the ERROR
 * event kube-apiserver sends (410 Expired) and the stream ends. @notify is called (store lock
 * held) when there may be something to send. */
unsigned api_watch_open(struct api *a, const struct api_target *t, const struct api_opts *o,
                        store_notify_fn notify, void *userdata, struct api_watch **ret, struct api_result *res);
/* The next line to send (new, "\n"-terminated, osb_free) or NULL: *done is set when the stream
 * must end (timeout, fell behind, stopping, after an ERROR event). Sends BOOKMARKs every
 * @bookmark_ms when requested, once the server has a version newer than the watch's start. When there is nothing yet, *@arm (may be NULL) is set to true
 * with the store lock still held, so a notify that follows cannot be missed. */
char *api_watch_next(struct api_watch *w, size_t *len, bool *done, unsigned bookmark_ms, bool *arm);
void api_watch_close(struct api_watch *w);  /* NULL-safe */
/* Wakes every watch (timers, shutdown). */
void api_watch_kick(struct api *a);
