// The Graphile Worker side of `make bench`: the same workloads as adagio's, on the same cluster
// (its own database), with Graphile Worker's batched settings. Prints one JSON object.
//
//   node bench.mjs migrate               install Graphile Worker's schema, nothing else
//   node bench.mjs add-flat N            queue N no-op jobs (an empty queue first)
//   node bench.mjs flat N CONCURRENCY    drain the N queued jobs; first job start to empty queue
//   node bench.mjs chain N               each job adds the next one; hop = next start - this end
//
// Connection: the libpq environment (PGHOST, PGPORT, PGUSER) and GRAPHILE_DB.
import { Logger } from "@graphile/logger";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { run, runMigrations } from "graphile-worker";
import pg from "pg";

const [workload, nArg, concurrencyArg] = process.argv.slice(2);
const n = Number(nArg);
const database = process.env.GRAPHILE_DB || "graphile";
const connectionString = `postgres:///${database}`; // host, port, user from the environment

// Graphile Worker's batched mode, as its performance docs recommend for throughput.
const batched = {
  worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
};

const percentile = (values, p) => {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return 0;
  const rank = (p / 100) * (v.length - 1);
  const lo = Math.floor(rank), hi = Math.ceil(rank);
  return v[lo] + (v[hi] - v[lo]) * (rank - lo);
};
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
let peakRss = 0;
const sampleRss = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);

async function waitForEmptyQueue(pool) {
  for (;;) {
    const { rows } = await pool.query("SELECT count(*)::int AS left FROM graphile_worker._private_jobs");
    if (rows[0].left === 0) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

// Queued by a call of its own, as adagio's flat runs are started before its drain, so that the
// server's CPU and WAL measured around the drain hold the drain alone on both systems.
async function addFlat(pool) {
  await pool.query("DELETE FROM graphile_worker._private_jobs");
  await pool.query(
    "SELECT graphile_worker.add_jobs(ARRAY(SELECT ROW('noop', json_build_object('i', i), NULL, NULL, NULL, NULL," +
      " NULL, NULL)::graphile_worker.job_spec FROM generate_series(1, $1::int) i))",
    [n],
  );
  return { queued: n };
}

async function flat(pool, concurrency) {
  const queued = (await pool.query("SELECT count(*)::int AS n FROM graphile_worker._private_jobs")).rows[0].n;
  if (queued !== n) throw new Error(`flat: ${queued} jobs queued, expected ${n} (run add-flat first)`);
  let done = 0, first = 0, resolveAll;
  const allRan = new Promise((r) => (resolveAll = r));
  // The worker's CPU from its start to its stop, as adagio's workers are measured (this process
  // also runs the harness, which is idle meanwhile but for polling the queue's length).
  const cpuAtStart = process.cpuUsage();
  const runner = await run({
    connectionString, concurrency, noHandleSignals: true, pollInterval: 1000, preset: batched,
    logger: quietLogger,
    taskList: {
      noop: async () => {
        if (done === 0) first = nowMs();
        if (++done === n) resolveAll();
      },
    },
  });
  await allRan;
  await waitForEmptyQueue(pool); // batched completions: the last batch lands a moment later
  const seconds = (nowMs() - first) / 1000;
  await runner.stop();
  const cpu = process.cpuUsage(cpuAtStart);
  return { nodes: n, seconds, nodes_per_s: n / seconds, concurrency, worker_cpu_s: (cpu.user + cpu.system) / 1e6 };
}

async function chain(pool) {
  await pool.query("DELETE FROM graphile_worker._private_jobs");
  const starts = new Array(n), ends = new Array(n);
  let resolveAll;
  const allRan = new Promise((r) => (resolveAll = r));
  const runner = await run({
    connectionString, concurrency: 1, noHandleSignals: true, pollInterval: 1000, preset: batched,
    logger: quietLogger,
    taskList: {
      chain: async (payload, helpers) => {
        const i = payload.i;
        starts[i] = nowMs();
        if (i + 1 < n) await helpers.addJob("chain", { i: i + 1 });
        ends[i] = nowMs();
        if (i + 1 === n) resolveAll();
      },
    },
  });
  await pool.query("SELECT graphile_worker.add_job('chain', json_build_object('i', 0))");
  await allRan;
  await waitForEmptyQueue(pool);
  await runner.stop();
  const hops = [];
  for (let i = 1; i < n; i++) hops.push(starts[i] - ends[i - 1]);
  return {
    hops: hops.length, p50_ms: percentile(hops, 50), p99_ms: percentile(hops, 99),
    mean_ms: hops.reduce((a, b) => a + b, 0) / hops.length,
  };
}

const quietLogger = new Logger(() => (level, message) => {
  if (level === "error") console.error(message);
});

const pool = new pg.Pool({ connectionString, max: 2 });
try {
  // Installs or updates Graphile Worker's schema before anything is timed.
  await runMigrations({ connectionString, logger: quietLogger });
  const result = workload === "migrate" ? {}
    : workload === "add-flat" ? await addFlat(pool)
    : workload === "flat" ? await flat(pool, Number(concurrencyArg || 24))
    : workload === "chain" ? await chain(pool)
    : (() => { throw new Error(`unknown workload ${workload}`); })();
  result.worker_peak_rss_kb = Math.round(peakRss / 1024);
  const manifest = createRequire(import.meta.url).resolve("graphile-worker").replace(/dist\/index\.js$/, "package.json");
  result.graphile_worker_version = JSON.parse(readFileSync(manifest, "utf8")).version;
  console.log(JSON.stringify(result));
} finally {
  clearInterval(sampleRss);
  await pool.end();
}
