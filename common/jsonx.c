#include "jsonx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"

static const char *type_name(jf_type t)
{
    switch (t) {
    case JF_STRING:
        return "a string";
    case JF_TOKEN:
        return "an identifier string";
    case JF_INT:
        return "an integer";
    case JF_BOOL:
        return "true or false";
    case JF_OBJECT:
        return "an object";
    case JF_ARRAY:
        return "an array";
    case JF_ANY:
        return "a value";
    }
    return "a value";
}

static bool type_ok(const json_t *v, jf_type t)
{
    switch (t) {
    case JF_STRING:
    case JF_TOKEN:
        return json_is_string(v);
    case JF_INT:
        return json_is_integer(v);
    case JF_BOOL:
        return json_is_boolean(v);
    case JF_OBJECT:
        return json_is_object(v);
    case JF_ARRAY:
        return json_is_array(v);
    case JF_ANY:
        return true;
    }
    return false;
}

status jsonx_parse(const char *buf, size_t len, size_t max, json_t **out,
                   err *e)
{
    json_error_t jerr;
    json_t *v;

    if (len > max)
        return err_set(e, ST_TOO_LARGE,
                       "message is %zu bytes; the limit is %zu bytes", len,
                       max);
    if (len == 0)
        return err_set(e, ST_BAD_JSON,
                       "message is empty; expected a JSON "
                       "object");
    v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        return err_set(e, ST_BAD_JSON, "invalid JSON at line %d column %d: %s",
                       jerr.line, jerr.column, jerr.text);
    if (!json_is_object(v)) {
        json_decref(v);
        return err_set(e, ST_WRONG_TYPE, "expected a JSON object");
    }
    *out = v;
    return ST_OK;
}

status jsonx_check(const json_t *obj, const char *where, const jfield *fields,
                   int nfields, err *e)
{
    const char *key;
    json_t *val;

    /* jansson's iteration macro takes a non-const object. */
    json_object_foreach((json_t *)obj, key, val)
    {
        int i;
        for (i = 0; i < nfields; i++)
            if (strcmp(fields[i].name, key) == 0)
                break;
        if (i == nfields) {
            char allowed[256] = "";
            size_t used = 0;
            for (int j = 0; j < nfields && used < sizeof(allowed); j++)
                used +=
                    (size_t)snprintf(allowed + used, sizeof(allowed) - used,
                                     "%s%s", j > 0 ? ", " : "", fields[j].name);
            return err_set(e, ST_UNKNOWN_FIELD,
                           "unknown field \"%.64s\" in %s; allowed: %s", key,
                           where, allowed);
        }
        if (!type_ok(val, fields[i].type))
            return err_set(e, ST_WRONG_TYPE, "%s.%s must be %s", where, key,
                           type_name(fields[i].type));
        if (fields[i].type == JF_TOKEN &&
            !ids_token_valid(json_string_value(val)))
            return err_set(e, ST_INVALID,
                           "%s.%s must be 1-64 characters of letters, "
                           "digits, '_' or '-'",
                           where, key);
    }
    for (int i = 0; i < nfields; i++)
        if (fields[i].required && json_object_get(obj, fields[i].name) == NULL)
            return err_set(e, ST_MISSING_FIELD,
                           "%s lacks required field \"%s\"", where,
                           fields[i].name);
    return ST_OK;
}

const char *jsonx_str(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

bool jsonx_int(const json_t *obj, const char *name, int64_t *out)
{
    const json_t *v = json_object_get(obj, name);

    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

char *jsonx_dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT);
}

status jsonx_load_file(const char *path, json_t **out, err *e)
{
    json_error_t jerr;
    json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

    if (v == NULL)
        return err_set(e, ST_BAD_JSON, "%s:%d:%d: %s", path, jerr.line,
                       jerr.column, jerr.text);
    if (!json_is_object(v)) {
        json_decref(v);
        return err_set(e, ST_WRONG_TYPE, "%s: expected a JSON object", path);
    }
    *out = v;
    return ST_OK;
}

char *jsonx_error_reply(status s, const char *message)
{
    json_t *o = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code",
                          status_code(s), "message", message);
    char *out = o != NULL ? jsonx_dump(o) : NULL;

    json_decref(o);
    if (out == NULL)
        out = strdup("{\"ok\":false,\"error\":{\"code\":\"internal\","
                     "\"message\":\"out of memory\"}}");
    return out;
}
