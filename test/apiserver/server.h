/* test/apiserver/server.h: HTTP front of the test API server: bearer-token authentication,
 * routing of /api, /apis, discovery, /version and health paths, content negotiation (JSON,
 * YAML bodies, Table output), request logging, and watches as chunked JSON-lines streams. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/osb_error.h"
#include "common/osb_http.h"
#include "test/apiserver/api.h"

struct server_token {
        char *token, *user, *uid;
        char **groups;   /* the file's fourth field, split at commas */
        size_t ngroups;
};

struct server {
        struct api *api;
        struct server_token *tokens;  /* NULL: no authentication, and no authorization; else RBAC */
        size_t ntokens;
        char address[128];            /* "127.0.0.1:PORT", for /api */
        unsigned bookmark_ms;
        size_t max_body;
};

/* Reads kube-apiserver's static token file (token,user,uid[,"group1,group2"] per line). Once
 * it is loaded, every request is also authorized (rbac.h): system:masters may do everything.
 * Returns 0, or -EINVAL/-errno with a message naming the line in @err. */
int server_load_tokens(struct server *s, const char *path, struct osb_error *err);
void server_release(struct server *s);

/* osb_http handler and completion hook; userdata is the struct server. */
void server_handle(void *userdata, struct osb_http_request *req);
void server_done(void *userdata, struct osb_http_request *req);
