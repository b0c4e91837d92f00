/*
 * The dashboard's static files (console/web/), embedded in the binary by
 * the build so the console needs no files at run time and no CDN.
 */
#ifndef TL_CONSOLE_ASSETS_H
#define TL_CONSOLE_ASSETS_H

#include <stddef.h>

typedef struct console_asset {
    const char *path; /* "/app.js" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} console_asset;

/* The asset served at path ("/" is /index.html), or NULL. */
const console_asset *console_assets_find(const char *path);

#endif
