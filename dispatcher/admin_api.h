/*
 * The admin command line's notices (<p>.admin.identity.revoked): a worker
 * whose identity was revoked, and who has no other active identity, loses
 * its lease at once, so its offers and tasks go back to the queue in the
 * same batch instead of after the lease (docs/security.md, "Revoking").
 * Only admin identities may publish there; the handler acts on what
 * PostgreSQL says of the identity, never on the notice alone.
 */
#ifndef TL_ADMIN_API_H
#define TL_ADMIN_API_H

#include "dsp.h"

status dsp_admin_revoked(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
