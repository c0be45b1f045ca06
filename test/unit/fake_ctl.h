/* test/unit/fake_ctl.h: fake Kubernetes API and OSB broker clients for the reconcilers' unit
 * tests. A test program that links fake_kapi.c and fake_osb.c before libcatctl.a gets these in
 * place of catalog-controller/kapi.c and osb_client.c (the linker takes no archive member whose
 * symbols are all defined already), so the reconcilers run unchanged against:
 *   - an in-memory API server: objects by resource, namespace and name, resourceVersions (a
 *     stale write is a 409), generation bumped on a spec change, the status subresource,
 *     deletion held by finalizers; Events are recorded, not stored;
 *   - a scripted broker: each call takes the next canned answer (a test fails on a call it did
 *     not script) and is recorded with its body.
 * Not thread-safe: the reconcilers are called on the test's thread. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "kube/client.h"

/* ---- the API server ---- */

void fake_kapi_reset(void);
/* Creates @text (JSON) as a client would. Aborts the test on failure. */
void fake_kapi_put(const struct kube_resource *res, const char *text);
/* The stored object (borrowed, valid until the next call), or NULL. */
json_t *fake_kapi_obj(const struct kube_resource *res, const char *ns, const char *name);
/* Every stored object of @res, as a new JSON array (for informer_replace()). */
json_t *fake_kapi_list(const struct kube_resource *res);
/* kubectl delete: deletionTimestamp when the object has finalizers, else gone. */
void fake_kapi_delete(const struct kube_resource *res, const char *ns, const char *name);
/* How many writes (create, update, update status, delete) the controller made so far. */
size_t fake_kapi_writes(void);
/* The Events recorded (a JSON array, borrowed), and whether one has @reason. */
json_t *fake_kapi_events(void);
bool fake_kapi_event(const char *reason);
/* The clock every created object's creationTimestamp and deletionTimestamp is read from. */
void fake_kapi_set_clock(time_t (*now)(void));

/* ---- the broker ---- */

void fake_osb_reset(void);
/* The answer to the next call of @call ("provision", "update", "deprovision", "last_operation",
 * "bind", "unbind", "fetch", "catalog"): a transport error @r < 0, or HTTP @status with @body
 * (JSON text, or NULL for none). */
void fake_osb_answer(const char *call, int r, long status, const char *body);
/* Calls made so far, and the n-th: its name, its body (NULL for calls without one), the binding
 * id it names ("" for calls of no binding), and the operation it asked about (last_operation). */
size_t fake_osb_calls(void);
const char *fake_osb_call(size_t n);
json_t *fake_osb_body(size_t n);
const char *fake_osb_binding(size_t n);
const char *fake_osb_operation(size_t n);
/* Answers scripted but not asked for. */
size_t fake_osb_unused(void);
