// The peer queue of make bench: graphile-worker on the bench's own
// PostgreSQL (fsync on), in a database of its own. scripts/bench.sh runs it
// after `npm ci` in this folder; it prints one name=value line per figure
// on stdout and notes on stderr, like the other benchmarks.
//
//   node peer.mjs --db postgres://USER@HOST:PORT/DB [--jobs N]
//                 [--rate R] [--seconds S] [--concurrency C]
//
// Figures:
//   peer_graphile_insert_jobs_per_s   N jobs added with addJobs, 1,000 a call
//   peer_graphile_drain_jobs_per_s    those N jobs drained by one worker pool
//                                     (C jobs at once, default poll settings,
//                                     no local queue, no completion batching):
//                                     first job started to the last completion
//                                     committed
//   peer_graphile_batched_drain_jobs_per_s  the same with the batching the
//                                     graphile-worker docs describe (a local
//                                     queue of 500, completions batched)
//   peer_graphile_pickup_p50/p90/p99_ms  jobs added one addJob call each at a
//                                     paced R jobs/s for S seconds: from the
//                                     addJob call to the task's start (the
//                                     insert's commit included)
import { performance } from "node:perf_hooks";
import { makeWorkerUtils, run, runMigrations } from "graphile-worker";

function parseArgs(argv) {
    const opts = { db: "", jobs: 10000, rate: 300, seconds: 10, concurrency: 4 };
    for (let i = 0; i < argv.length; i += 2) {
        const name = argv[i].replace(/^--/, "");
        const value = argv[i + 1];
        if (!(name in opts) || value === undefined) {
            throw new Error(`unknown or incomplete option ${argv[i]}; see the top of peer.mjs`);
        }
        opts[name] = name === "db" ? value : Number(value);
        if (name !== "db" && !(opts[name] > 0)) {
            throw new Error(`--${name} must be a positive number, not ${value}`);
        }
    }
    if (!opts.db) throw new Error("--db postgres://... is required");
    return opts;
}

// graphile-worker logs every job at info level; only warnings and errors
// go to stderr, so the figures stay readable.
const quietLogger = {
    scope() {
        return quietLogger;
    },
    debug() {},
    info() {},
    warn(msg) {
        process.stderr.write(`peer: ${msg}\n`);
    },
    error(msg) {
        process.stderr.write(`peer: ${msg}\n`);
    },
};

function note(msg) {
    process.stderr.write(`peer: ${msg}\n`);
}

function quantile(sorted, q) {
    if (sorted.length === 0) return NaN;
    const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
    return sorted[Math.max(i, 0)];
}

async function pendingJobs(utils) {
    return utils.withPgClient(async (client) => {
        const r = await client.query("SELECT count(*)::int AS n FROM graphile_worker._private_jobs");
        return r.rows[0].n;
    });
}

async function addMany(utils, n, tag) {
    const chunk = 1000;
    for (let done = 0; done < n; done += chunk) {
        const specs = [];
        for (let i = done; i < Math.min(n, done + chunk); i++) {
            specs.push({ identifier: "noop", payload: { tag, n: i } });
        }
        await utils.addJobs(specs);
    }
}

// drain: N jobs are in the table; one worker pool runs them all. The
// clock starts at the first job's start (not at the pool's start-up) and
// stops when the table is empty, every completion committed.
async function drain(opts, utils, batched) {
    const n = opts.jobs;
    const tag = batched ? "batched" : "drain";
    const t0 = performance.now();
    await addMany(utils, n, tag);
    const insertS = (performance.now() - t0) / 1000;

    let started = 0;
    let first = 0;
    let allDone;
    const done = new Promise((resolve) => {
        allDone = resolve;
    });
    const taskList = {
        noop: async () => {
            if (started++ === 0) first = performance.now();
        },
    };
    const preset = batched
        ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0 } }
        : undefined;
    const runner = await run({
        connectionString: opts.db,
        concurrency: opts.concurrency,
        noHandleSignals: true,
        logger: quietLogger,
        taskList,
        preset,
    });
    let completed = 0;
    runner.events.on("job:complete", () => {
        if (++completed === n) allDone();
    });
    await done;
    // A job's completion event can come before its completion has
    // committed, so the clock stops when the table is empty (or after 10 s
    // of waiting, counting what is left as not drained).
    let left = await pendingJobs(utils);
    for (const until = performance.now() + 10000; left !== 0 && performance.now() < until; ) {
        await new Promise((r) => setTimeout(r, 2));
        left = await pendingJobs(utils);
    }
    const seconds = Math.max((performance.now() - first) / 1000, 0.001);
    await runner.stop();
    if (left !== 0) {
        note(`${left} jobs were still in the table 10 s after the ${tag} run; removed`);
        await utils.withPgClient((client) => client.query("DELETE FROM graphile_worker._private_jobs"));
    }
    return { insertS, seconds, drained: n - left };
}

// pickup: a pool waits for work; jobs are added one addJob call each, at
// a paced rate (each job's add is issued at its slot, not after the
// previous one returns, so a slow commit does not slow the pace).
async function pickup(opts, utils) {
    const total = Math.round(opts.rate * opts.seconds);
    const latencies = [];
    let allDone;
    const done = new Promise((resolve) => {
        allDone = resolve;
    });
    const taskList = {
        noop: async (payload) => {
            latencies.push(performance.now() - payload.t);
            if (latencies.length === total) allDone();
        },
    };
    const runner = await run({
        connectionString: opts.db,
        concurrency: opts.concurrency,
        noHandleSignals: true,
        logger: quietLogger,
        taskList,
    });
    const start = performance.now();
    const adds = [];
    for (let i = 0; i < total; i++) {
        const slot = start + (i * 1000) / opts.rate;
        const wait = slot - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        adds.push(utils.addJob("noop", { tag: "pickup", t: performance.now() }));
    }
    const issued = Math.max((performance.now() - start) / 1000, 0.001);
    await Promise.all(adds);
    const timeout = setTimeout(() => allDone(), 30000);
    await done;
    clearTimeout(timeout);
    await runner.stop();
    if (latencies.length < total) note(`only ${latencies.length} of ${total} paced jobs ran`);
    latencies.sort((a, b) => a - b);
    return { total, latencies, issued };
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    await runMigrations({ connectionString: opts.db, logger: quietLogger });
    const utils = await makeWorkerUtils({ connectionString: opts.db, logger: quietLogger });
    try {
        const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : "");
        note(`drain: ${opts.jobs} jobs, concurrency ${opts.concurrency}, unbatched`);
        const d = await drain(opts, utils, false);
        console.log(`peer_graphile_jobs=${opts.jobs}`);
        console.log(`peer_graphile_insert_jobs_per_s=${fmt(opts.jobs / d.insertS)}`);
        console.log(`peer_graphile_drain_seconds=${d.seconds.toFixed(3)}`);
        console.log(`peer_graphile_drain_jobs_per_s=${fmt(d.drained / d.seconds)}`);

        note(`batched drain: ${opts.jobs} jobs, local queue 500, completions batched`);
        const b = await drain(opts, utils, true);
        console.log(`peer_graphile_batched_drain_jobs_per_s=${fmt(b.drained / b.seconds)}`);

        note(`pickup: ${opts.rate} jobs/s for ${opts.seconds} s, one addJob each`);
        const p = await pickup(opts, utils);
        console.log(`peer_graphile_pickup_jobs=${p.latencies.length}`);
        console.log(`peer_graphile_pickup_rate_jobs_per_s=${fmt(p.total / p.issued)}`);
        for (const [name, q] of [["p50", 0.5], ["p90", 0.9], ["p99", 0.99]]) {
            console.log(`peer_graphile_pickup_${name}_ms=${quantile(p.latencies, q).toFixed(2)}`);
        }
    } finally {
        await utils.release();
    }
}

main().catch((err) => {
    note(`failed: ${err.message}`);
    process.exit(1);
});
