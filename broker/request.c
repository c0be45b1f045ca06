/* broker/request.c: parsing and validation of request bodies and OSB headers. */
#include "common/osb_compat.h"
#include "common/osb_base64.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "broker/request.h"

/* A required id: present, a string, and not empty. */
static int get_id(const json_t *body, const char *key, bool required, const char **ret,
                  struct osb_error *err)
{
        const char *s = NULL;
        int r = osb_json_get_string(body, "", key, required, &s, err);
        if (r < 0)
                return r;
        if (s && !*s)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "%s must not be empty", key);
        if (s)
                *ret = s;
        return 0;
}

static int get_obj(const json_t *body, const char *key, json_t **ret, struct osb_error *err)
{
        json_t *v = json_object_get(body, key);
        if (v && json_is_null(v))
                return 0;  /* null means absent: platforms send "parameters": null */
        return osb_json_get_object(body, "", key, false, ret, err);
}

static int get_maintenance(const json_t *body, const char **ret, struct osb_error *err)
{
        json_t *mi = NULL;
        int r = get_obj(body, "maintenance_info", &mi, err);
        if (r < 0 || !mi)
                return r;
        /* An object without a version is treated as absent (some platforms always send {}). */
        return osb_json_get_string(mi, "maintenance_info", "version", false, ret, err);
}

/* One member of a request body: how it is read, and where it goes in the request struct. */
enum field_kind { FIELD_ID, FIELD_OPTIONAL_ID, FIELD_OBJECT, FIELD_MAINTENANCE };
struct field {
        const char *key;
        enum field_kind kind;
        size_t offset;  /* of a const char * (ids, maintenance) or a json_t * (objects) */
};

/* Parses the JSON object of @data into *@body (new) and reads @fields into @out, in order: the
 * first bad member is the one named. Returns 0, or OSB_E_BAD_REQUEST (*@body NULL then). */
static int parse_body(const char *data, size_t len, json_t **body, void *out, const struct field *fields,
                      size_t n, struct osb_error *err)
{
        int rc = osb_json_parse_object(data, len, body, err);
        for (size_t i = 0; rc >= 0 && i < n; i++) {
                void *dst = (char *) out + fields[i].offset;
                switch (fields[i].kind) {
                case FIELD_ID:
                case FIELD_OPTIONAL_ID:
                        rc = get_id(*body, fields[i].key, fields[i].kind == FIELD_ID, dst, err);
                        break;
                case FIELD_OBJECT:
                        rc = get_obj(*body, fields[i].key, dst, err);
                        break;
                case FIELD_MAINTENANCE:
                        rc = get_maintenance(*body, dst, err);
                        break;
                }
        }
        if (rc < 0) {
                json_decref(*body);
                *body = NULL;
        }
        return rc;
}

#define FIELD(type, key, kind, member) {key, kind, offsetof(type, member)}

int request_parse_provision(const char *data, size_t len, struct provision_req *ret,
                            struct osb_error *err)
{
        static const struct field fields[] = {
                FIELD(struct provision_req, "service_id", FIELD_ID, service_id),
                FIELD(struct provision_req, "plan_id", FIELD_ID, plan_id),
                FIELD(struct provision_req, "organization_guid", FIELD_ID, organization_guid),
                FIELD(struct provision_req, "space_guid", FIELD_ID, space_guid),
                FIELD(struct provision_req, "parameters", FIELD_OBJECT, parameters),
                FIELD(struct provision_req, "context", FIELD_OBJECT, context),
                FIELD(struct provision_req, "maintenance_info", FIELD_MAINTENANCE, maintenance_version),
        };
        struct provision_req r = {0};
        int rc = parse_body(data, len, &r.body, &r, fields, OSB_ELEMENTSOF(fields), err);
        if (rc < 0)
                return rc;
        *ret = r;
        return 0;
}

int request_parse_update(const char *data, size_t len, struct update_req *ret, struct osb_error *err)
{
        static const struct field fields[] = {
                FIELD(struct update_req, "service_id", FIELD_ID, service_id),
                FIELD(struct update_req, "plan_id", FIELD_OPTIONAL_ID, plan_id),
                FIELD(struct update_req, "parameters", FIELD_OBJECT, parameters),
                FIELD(struct update_req, "context", FIELD_OBJECT, context),
                FIELD(struct update_req, "previous_values", FIELD_OBJECT, previous_values),
                FIELD(struct update_req, "maintenance_info", FIELD_MAINTENANCE, maintenance_version),
        };
        struct update_req r = {0};
        int rc = parse_body(data, len, &r.body, &r, fields, OSB_ELEMENTSOF(fields), err);
        if (rc < 0)
                return rc;
        *ret = r;
        return 0;
}

int request_parse_bind(const char *data, size_t len, struct bind_req *ret, struct osb_error *err)
{
        static const struct field fields[] = {
                FIELD(struct bind_req, "service_id", FIELD_ID, service_id),
                FIELD(struct bind_req, "plan_id", FIELD_ID, plan_id),
                FIELD(struct bind_req, "app_guid", FIELD_OPTIONAL_ID, app_guid),
                FIELD(struct bind_req, "bind_resource", FIELD_OBJECT, bind_resource),
                FIELD(struct bind_req, "parameters", FIELD_OBJECT, parameters),
                FIELD(struct bind_req, "context", FIELD_OBJECT, context),
                FIELD(struct bind_req, "predecessor_binding_id", FIELD_OPTIONAL_ID, predecessor_binding_id),
        };
        struct bind_req r = {0};
        int rc = parse_body(data, len, &r.body, &r, fields, OSB_ELEMENTSOF(fields), err);
        if (rc < 0)
                return rc;
        if (!r.app_guid && r.bind_resource) {
                const char *a = NULL;
                rc = osb_json_get_string(r.bind_resource, "bind_resource", "app_guid", false, &a, err);
                if (rc < 0) {
                        json_decref(r.body);
                        return rc;
                }
                if (a && *a)
                        r.app_guid = a;
        }
        *ret = r;
        return 0;
}

void provision_req_release(struct provision_req *r)
{
        json_decref(r->body);
        *r = (struct provision_req){0};
}

void update_req_release(struct update_req *r)
{
        json_decref(r->body);
        *r = (struct update_req){0};
}

void bind_req_release(struct bind_req *r)
{
        json_decref(r->body);
        *r = (struct bind_req){0};
}

static int parse_uint(const char **p, unsigned *ret)
{
        unsigned v = 0;
        const char *s = *p;
        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (v > 100000)
                        return -EINVAL;
                v = v * 10 + (unsigned) (*s - '0');
        }
        *p = s;
        *ret = v;
        return 0;
}

int request_parse_api_version(const char *header, unsigned *ret_major, unsigned *ret_minor,
                              struct osb_error *err)
{
        if (!header)
                return osb_error_set(err, OSB_E_API_VERSION,
                                     "the X-Broker-API-Version header is required (this broker speaks 2.17)");
        /* RFC 9110 5.5: a field value has no leading or trailing whitespace; a parser strips it. */
        const char *p = header;
        while (*p == ' ' || *p == '\t')
                p++;
        unsigned major, minor;
        if (parse_uint(&p, &major) < 0 || *p++ != '.' || parse_uint(&p, &minor) < 0 ||
            p[strspn(p, " \t")] != '\0')
                return osb_error_set(err, OSB_E_API_VERSION,
                                     "X-Broker-API-Version '%.64s' is not MAJOR.MINOR (this broker speaks 2.17)",
                                     header);
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

/* Platforms differ: accept the URL-safe alphabet and missing padding. */
#define ORIGINATING_IDENTITY_BASE64 (OSB_BASE64_URLSAFE | OSB_BASE64_LENIENT)

int request_parse_originating_identity(const char *header, char **ret_platform,
                                       json_t **ret_identity, struct osb_error *err)
{
        const char *sp = strchr(header, ' ');
        if (!sp || sp == header || !sp[1] || strchr(sp + 1, ' '))
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "X-Broker-API-Originating-Identity must be 'PLATFORM BASE64-JSON'");
        size_t enc = strlen(sp + 1);
        if (enc > 16384)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "X-Broker-API-Originating-Identity is too long");
        osb_autofree char *buf = NULL;
        size_t n = 0;
        int r = osb_base64_decode(sp + 1, enc, ORIGINATING_IDENTITY_BASE64, &buf, &n, NULL);
        if (r == -ENOMEM)
                return osb_error_set(err, -ENOMEM, "out of memory");
        if (r < 0)
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "X-Broker-API-Originating-Identity: the value after the platform is not base64");
        json_t *id = NULL;
        struct osb_error jerr = OSB_ERROR_INIT;
        if (osb_json_parse_object(buf, n, &id, &jerr) < 0)
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "X-Broker-API-Originating-Identity: the decoded value is not a JSON object (%s)",
                                     jerr.text);
        char *platform = osb_strndup(header, (size_t) (sp - header));
        if (!platform) {
                json_decref(id);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        *ret_platform = platform;
        *ret_identity = id;
        return 0;
}

/* Length of the UTF-8 sequence at @p (at most @n bytes), or 0 when it is not valid UTF-8
 * (overlong forms, surrogates and code points past U+10FFFF included). *ret_cp gets the code
 * point. */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *ret_cp)
{
        unsigned char c = p[0];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) {
                *ret_cp = c;
                return 1;
        } else if (c >= 0xc2 && c <= 0xdf) {
                len = 2, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4, cp = c & 0x07, min = 0x10000;
        } else {
                return 0;
        }
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return len;
}

int request_check_id(const char *s, size_t len, const char *what, struct osb_error *err)
{
        const unsigned char *p = (const unsigned char *) s;
        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t k = utf8_seq(p + i, len - i, &cp);
                if (k == 0)
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "%s is not valid UTF-8 (at byte %zu): ids are UTF-8 strings", what, i);
                if (cp == 0)
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "%s contains a NUL character (at byte %zu)", what, i);
                if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "%s contains a control character (U+%04X at byte %zu)", what,
                                             (unsigned) cp, i);
                i += k;
        }
        return 0;
}

int request_parse_bool(const char *name, const char *value, bool *ret, struct osb_error *err)
{
        if (!value) {
                *ret = false;
                return 0;
        }
        const char *p = value + strspn(value, " \t");
        size_t n = strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
        if (n == 4 && strncasecmp(p, "true", 4) == 0) {
                *ret = true;
                return 0;
        }
        if (n == 5 && strncasecmp(p, "false", 5) == 0) {
                *ret = false;
                return 0;
        }
        return osb_error_set(err, OSB_E_BAD_REQUEST, "the query parameter %s must be true or false", name);
}
