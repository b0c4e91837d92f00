# shellcheck shell=bash
# The billing end of `make demo`, sourced by scripts/demo.sh once the case
# stream has been served: the bank disputes a few results, the
# verification windows pass, each tenant's month is invoiced (signed), the
# bank complains about a few invoiced results (credit notes follow), and
# the demo prints the invoices, the billing report, the operator's and a
# person's statements, checks every document's signature, shows that a
# tampered copy is rejected and that the books reconcile to the outcomes.
#
# Needs from demo.sh: TL_CLI, TL_DB, run_dir, keys (the signing key dir
# the billing service also uses) and lib.sh's say/die/fg_run/pg_scalar.
#
# Tunables: DEMO_DISPUTES (complaints and reopens before invoicing, 12),
# DEMO_LATE_COMPLAINTS (complaints about invoiced results, 4).

# wait_for WHAT SECONDS SQL: poll SQL (a count) until it returns 0.
wait_for() {
    local what=$1 limit=$2 sql=$3 left i
    for ((i = 0; i < limit * 5; i++)); do
        left=$(pg_scalar "$sql")
        [[ $left -eq 0 ]] && return 0
        ((i % 10 == 0)) && printf '\r  %s: %s left   ' "$what" "$left"
        sleep 0.2
    done
    echo
    die "$what: $left still left after ${limit}s; see $run_dir/billing.log"
}

# dispute KIND N ONLY_INVOICED: file N disputes of KIND (complaint|reopen)
# about random billed cases (only cases with an invoiced result when
# ONLY_INVOICED is 1), through the bank API like a bank would.
dispute() {
    local kind=$1 n=$2 invoiced=$3 filter="" tenant ext
    [[ $invoiced == 1 ]] && filter="AND EXISTS (SELECT 1 FROM invoice_lines il
        WHERE il.billable_line_id = b.billable_line_id)"
    while read -r tenant ext; do
        [[ -n $ext ]] || continue
        "$TL_CLI" case "$kind" --tenant "$tenant" --external-id "$ext" \
            --reason "customer disputes the result (demo)" \
            --request-id "demo-$kind-$invoiced" >/dev/null ||
            die "case $kind of $tenant/$ext failed"
    done < <(pg_scalar "SELECT c.tenant_id || ' ' || c.external_id
        FROM cases c WHERE EXISTS (SELECT 1 FROM billable_outcomes b
          WHERE b.case_id = c.id AND b.state <> 'reversed' $filter)
        AND NOT EXISTS (SELECT 1 FROM case_disputes d WHERE d.case_id = c.id)
        ORDER BY md5(c.external_id) LIMIT $n")
}

billing_finale() {
    local period tenants t first tampered disputes late worker
    period=$(date -u +%Y-%m)
    disputes=${DEMO_DISPUTES:-12}
    late=${DEMO_LATE_COMPLAINTS:-4}

    echo
    say "billing: $disputes disputes (complaints and reopens) before invoicing"
    dispute complaint $((disputes * 2 / 3)) 0
    dispute reopen $((disputes - disputes * 2 / 3)) 0
    wait_for "disputes to process" 30 \
        "SELECT count(*) FROM case_disputes WHERE processed_at IS NULL"
    say "billing: waiting for the contracts' verification windows to pass"
    wait_for "results pending verification" 120 \
        "SELECT count(*) FROM billable_outcomes WHERE state = 'pending'"
    printf '\r'

    tenants=$(pg_scalar "SELECT string_agg(DISTINCT tenant_id, ' ')
        FROM billable_lines")
    [[ -n $tenants ]] || die "nothing was billed; see $run_dir/billing.log"
    for t in $tenants; do
        fg_run "$TL_CLI" invoice close --tenant "$t" --period "$period" \
            --key "$keys" --early
    done

    say "billing: $late complaints about invoiced results (credit notes follow)"
    dispute complaint "$late" 1
    wait_for "disputes to process" 30 \
        "SELECT count(*) FROM case_disputes WHERE processed_at IS NULL"
    wait_for "reversed invoiced results to credit" 30 \
        "SELECT count(*) FROM billable_outcomes b JOIN invoice_lines il
           ON il.kind = 'invoice' AND il.billable_line_id = b.billable_line_id
         WHERE b.state = 'reversed' AND NOT EXISTS (SELECT 1
           FROM invoice_lines c WHERE c.kind = 'credit_note'
             AND c.billable_line_id = b.billable_line_id)"
    printf '\r'

    echo
    fg_run "$TL_CLI" invoice list
    echo
    fg_run "$TL_CLI" bill report --period "$period"
    echo
    # The operator's statement has a line per result: show its head and
    # totals, keep the whole of it in a file.
    "$TL_CLI" statement --operator acme_bpo --period "$period" \
        >"$run_dir/statement-acme_bpo.txt" || die "the operator's statement failed"
    sed -n '1,6p' "$run_dir/statement-acme_bpo.txt"
    echo "  ... $(grep -c '^20' "$run_dir/statement-acme_bpo.txt") postings in all: $run_dir/statement-acme_bpo.txt"
    sed -n '/^Totals/,$p' "$run_dir/statement-acme_bpo.txt"
    echo
    # A person's statement (not an AI worker's), one with a deduction (a
    # reversed result) when there is one, so both kinds of line show.
    worker=$(pg_scalar "SELECT s.party FROM outcome_splits s
        JOIN billable_outcomes b USING (outcome_id)
        JOIN workers w ON w.id = s.party AND w.kind = 'human'
        WHERE s.role = 'worker'
        ORDER BY (b.state = 'reversed') DESC, s.party LIMIT 1")
    if [[ -n $worker ]]; then
        fg_run "$TL_CLI" statement --worker "$worker" --period "$period"
    fi
    echo
    say "billing: checking every issued document's signature"
    for id in $(pg_scalar "SELECT id FROM invoices WHERE state = 'issued'
        ORDER BY id"); do
        "$TL_CLI" invoice verify --id "$id" --pubkey "$keys/invoice.pub" ||
            die "invoice $id does not verify"
    done
    # The invoice to export: one with adjustment lines (a complaint
    # penalty, a minimum top-up) when there is one, as it shows the most.
    first=$(pg_scalar "SELECT i.id FROM invoices i WHERE i.kind = 'invoice'
        ORDER BY EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id
          AND l.adjustment_id IS NOT NULL) DESC, i.id LIMIT 1")
    "$TL_CLI" invoice show "$first" --out "$run_dir/invoice-$first.json"
    "$TL_CLI" invoice show "$first" --format html \
        --out "$run_dir/invoice-$first.html"
    "$TL_CLI" invoice show "$first" --format csv \
        --out "$run_dir/invoice-$first.csv"
    "$TL_CLI" invoice show "$first" --format pdf \
        --out "$run_dir/invoice-$first.pdf"
    "$TL_CLI" invoice verify --file "$run_dir/invoice-$first.json" \
        --pubkey "$keys/invoice.pub" || die "the exported invoice does not verify"
    # Raise the first line's amount by one cent, as a forger would (perl is
    # part of every Debian system).
    tampered=$run_dir/invoice-$first.tampered.json
    perl -0pe 's/"amount_minor":\s*(-?\d+)/"\"amount_minor\":" . ($1 + 1)/e' \
        "$run_dir/invoice-$first.json" >"$tampered"
    cmp -s "$run_dir/invoice-$first.json" "$tampered" &&
        die "could not make a tampered copy of invoice $first"
    if "$TL_CLI" invoice verify --file "$tampered" \
        --pubkey "$keys/invoice.pub" 2>"$run_dir/tampered.err"; then
        die "a tampered invoice was accepted"
    fi
    say "billing: the tampered copy was rejected: $(head -1 "$run_dir/tampered.err")"
    say "billing: invoice $first exported to $run_dir/invoice-$first.{json,html,csv,pdf}"

    echo
    fg_run "$TL_CLI" bill reconcile --period "$period" ||
        die "the books do not reconcile to the outcomes"
}
