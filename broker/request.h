/* broker/request.h: parsing of untrusted request input: the JSON bodies of provision, update
 * and bind, and the X-Broker-API-Version and X-Broker-API-Originating-Identity headers. Every
 * failure is OSB_E_BAD_REQUEST (or OSB_E_API_VERSION) with a message naming the field. Unknown
 * fields are ignored (OSB: vendor extensions must never be a reason to reject). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/osb_error.h"

/* All pointers are borrowed from @body, which the struct owns. */
struct provision_req {
        json_t *body;
        const char *service_id, *plan_id, *organization_guid, *space_guid;
        json_t *parameters;               /* object or NULL */
        json_t *context;                  /* object or NULL */
        const char *maintenance_version;  /* maintenance_info.version or NULL */
};

struct update_req {
        json_t *body;
        const char *service_id;
        const char *plan_id;              /* NULL: the plan does not change */
        json_t *parameters;               /* NULL: the parameters do not change */
        json_t *context;
        const char *maintenance_version;
        json_t *previous_values;          /* object or NULL */
};

struct bind_req {
        json_t *body;
        const char *service_id, *plan_id;
        const char *app_guid;             /* app_guid, else bind_resource.app_guid, or NULL */
        json_t *bind_resource;            /* object or NULL */
        json_t *parameters;
        json_t *context;
        const char *predecessor_binding_id;
};

int request_parse_provision(const char *data, size_t len, struct provision_req *ret,
                            struct osb_error *err);
int request_parse_update(const char *data, size_t len, struct update_req *ret, struct osb_error *err);
int request_parse_bind(const char *data, size_t len, struct bind_req *ret, struct osb_error *err);
void provision_req_release(struct provision_req *r);
void update_req_release(struct update_req *r);
void bind_req_release(struct bind_req *r);

/* "MAJOR.MINOR" (digits only; surrounding spaces and tabs are ignored, as RFC 9110 strips
 * them from field values). Returns 0, or OSB_E_API_VERSION when missing or malformed. */
int request_parse_api_version(const char *header, unsigned *ret_major, unsigned *ret_minor,
                              struct osb_error *err);

/* "PLATFORM BASE64" where BASE64 decodes to a JSON object. Returns 0 with *ret_platform new
 * (osb_free) and *ret_identity new (json_decref), or OSB_E_BAD_REQUEST. */
int request_parse_originating_identity(const char *header, char **ret_platform,
                                       json_t **ret_identity, struct osb_error *err);

/* What an id (instance id, binding id) and a query value (operation, service_id, plan_id) may
 * be: an opaque string of @len bytes that is valid UTF-8 without NUL or control characters
 * (C0, DEL, C1), so it can be stored, compared, put into JSON and logged as it is. Returns 0,
 * or OSB_E_BAD_REQUEST with a message naming @what and the byte offset (never quoting it). */
int request_check_id(const char *s, size_t len, const char *what, struct osb_error *err);

/* A boolean query parameter (accepts_incomplete): "true" or "false" in any case, with
 * surrounding spaces or tabs ignored; absent (@value NULL) is false. Anything else ("1",
 * "yes", "") is OSB_E_BAD_REQUEST naming @name. The one rule for every boolean parameter. */
int request_parse_bool(const char *name, const char *value, bool *ret, struct osb_error *err);

static inline void provision_req_releasep(struct provision_req *r)
{
        provision_req_release(r);
}
static inline void update_req_releasep(struct update_req *r)
{
        update_req_release(r);
}
static inline void bind_req_releasep(struct bind_req *r)
{
        bind_req_release(r);
}
