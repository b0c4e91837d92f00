/*
 * `twinline case erase`: the right to erasure (PIPL art. 47, GDPR art.
 * 17) for one case. The case's sealed personal part (its customer and the
 * payload fields its playbook marks personal) is deleted, so nothing of
 * the customer is left in the database to open, whatever key one holds;
 * the case, its tasks, outcomes and every billing record stay as they
 * are, so lines, ledger, invoices and reconciliation are unchanged. The
 * tenant's case.get then shows the case with "erased_at" and an empty
 * customer, and the event case.erased goes out on <p>.evt.<tenant>.case.
 * Copies in backups taken before stay until those backups expire
 * (docs/security.md, "Erasure").
 */
#ifndef TL_CMD_ERASE_H
#define TL_CMD_ERASE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "err.h"

/*
 * Erase case case_id (when external_id is NULL) or external_id of tenant,
 * prefix naming the installation's event subjects. request_id (may be
 * NULL) is the operator's reference for the request (a token: never free
 * text, which could itself be personal). An open case is refused unless
 * force: its next worker would get it without the customer. A line on
 * out says what was done; erasing an erased case again says when it was.
 * Errors: ST_NOT_FOUND (no such case of the tenant), ST_CONFLICT (open,
 * without force), ST_INVALID (request_id), ST_DB.
 */
status cmd_case_erase(db *d, const char *prefix, const char *tenant,
                      int64_t case_id, const char *external_id,
                      const char *request_id, bool force, FILE *out, err *e);

#endif
