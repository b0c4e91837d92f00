#include "admin_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

#define NFIELDS(t) ((int)(sizeof(t) / sizeof((t)[0])))

static const jfield revoked_fields[] = {
    {"identity", JF_TOKEN, true},
    {"role", JF_STRING, true},
    {"party", JF_TOKEN, true},
};

status admin_msg_revoked_encode(const admin_revoked *r, char **out, size_t *len,
                                err *e)
{
    json_t *v = json_pack("{s:s, s:s, s:s}", "identity", r->identity, "role",
                          r->role, "party", r->party);
    char *body = v != NULL ? jsonx_dump(v) : NULL;

    json_decref(v);
    if (body == NULL)
        return err_set(e, ST_NOMEM, "out of memory building a notice");
    *out = body;
    *len = strlen(body);
    return ST_OK;
}

status admin_msg_revoked_decode(const char *buf, size_t len, admin_revoked *out,
                                err *e)
{
    json_t *root = NULL;
    const char *role;
    status s = jsonx_parse(buf, len, ADMIN_MSG_MAX, &root, e);

    if (s != ST_OK)
        return s;
    s = jsonx_check(root, "notice", revoked_fields, NFIELDS(revoked_fields), e);
    if (s != ST_OK)
        goto out;
    role = jsonx_str(root, "role");
    if (strlen(role) == 0 || strlen(role) >= sizeof(out->role)) {
        s = err_set(e, ST_INVALID, "notice.role \"%.32s\" is not a role", role);
        goto out;
    }
    snprintf(out->identity, sizeof(out->identity), "%s",
             jsonx_str(root, "identity"));
    snprintf(out->role, sizeof(out->role), "%s", role);
    snprintf(out->party, sizeof(out->party), "%s", jsonx_str(root, "party"));
out:
    json_decref(root);
    return s;
}

status admin_msg_revoked_reply(bool released, char **out, size_t *len, err *e)
{
    char *body = malloc(64);

    if (body == NULL)
        return err_set(e, ST_NOMEM, "out of memory building a reply");
    *len = (size_t)snprintf(body, 64, "{\"ok\":true,\"worker_released\":%s}",
                            released ? "true" : "false");
    *out = body;
    return ST_OK;
}

status admin_msg_revoked_reply_decode(const char *buf, size_t len, bool *ok,
                                      bool *released, char code[48], err *e)
{
    json_t *root = NULL, *okv, *rel;
    const char *c;
    status s;

    if (len == 0)
        return err_set(e, ST_UNAVAILABLE, "no dispatcher answers");
    s = jsonx_parse(buf, len, ADMIN_MSG_MAX, &root, e);
    if (s != ST_OK)
        return s;
    okv = json_object_get(root, "ok");
    if (!json_is_boolean(okv)) {
        s = err_set(e, ST_WRONG_TYPE, "reply.ok must be true or false");
        goto out;
    }
    *ok = json_is_true(okv);
    rel = json_object_get(root, "worker_released");
    *released = json_is_true(rel);
    c = jsonx_str(json_object_get(root, "error"), "code");
    snprintf(code, 48, "%s", *ok ? "" : c != NULL ? c : "internal");
out:
    json_decref(root);
    return s;
}
