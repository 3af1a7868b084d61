/**
 * pgas-run as one task of srun or mpirun, with the tasks started by hand with the variables those
 * launchers set: every task finds its rank, rank 0's rendezvous and the same token on its own, and the
 * tasks form one job.
 */
import test, { type ExecutionContext } from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { ENV_RANK, PGAS_RANK, baseEnv, killMarked, runLauncher, uniqueMarker, uwsMissingReason, type RunResult } from './fixtures/launcher-harness.js';
import { derivePort, deriveToken } from '../runtime/launcher/scheduler-env.js';
import { freePort } from '../runtime/launcher/free-port.js';

const uwsMissing = uwsMissingReason();
const uwsTest = (title: string, fn: (t: ExecutionContext) => Promise<void>): void => {
  if (uwsMissing) test.skip(`${title} (skipped: ${uwsMissing})`, () => {});
  else test.serial(title, fn);
};

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Start `size` pgas-run tasks, task i with env(i), as srun or mpirun would, and wait for all. */
function runTasks(size: number, env: (rank: number) => NodeJS.ProcessEnv, args: string[]): Promise<RunResult[]> {
  return Promise.all(Array.from({ length: size }, (_, rank) => runLauncher(args, { env: baseEnv(env(rank)) })));
}

function report(r: RunResult, rank: number): Record<string, unknown> {
  const m = new RegExp(`^\\[${rank}\\] report (\\{.*\\})$`, 'm').exec(r.stdout);
  if (!m) throw new Error(`no report from rank ${rank}: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(m[1]!) as Record<string, unknown>;
}

test.serial('srun tasks: rank from SLURM_PROCID, rendezvous on the first node, derived port and token agree', async (t) => {
  const marker = uniqueMarker('slurmenv');
  t.teardown(() => killMarked(marker));
  const job = String(100000 + Math.floor(Math.random() * 800000));
  const results = await runTasks(3, (rank) => ({
    SLURM_PROCID: String(rank), SLURM_NTASKS: '3', SLURM_JOB_ID: job, SLURM_STEP_ID: '0',
    SLURM_STEP_NODELIST: 'localhost,node[02-03]', SLURMD_NODENAME: 'localhost',
  }), [ENV_RANK, marker]);
  const port = derivePort(job, '0');
  for (const [rank, r] of results.entries()) {
    t.is(r.code, 0, r.stderr);
    const rep = report(r, rank);
    t.is(rep.rank, rank);
    t.is(rep.size, 3);
    t.is(rep.rendezvous, `localhost:${port}`);
    t.is(rep.listenHost, 'localhost');
    t.is(rep.tokenSha, sha(deriveToken('slurm', job, '0', String(userInfo().uid))));
    t.notRegex(r.stderr, /pgas-run: 3 ranks/); // tasks print no summary when all is well
  }
});

test.serial('PMI tasks take --rendezvous and PGAS_TOKEN; a failing task exits with its status and says so', async (t) => {
  const marker = uniqueMarker('pmi');
  t.teardown(() => killMarked(marker));
  const token = `pmi-${randomBytes(8).toString('hex')}`;
  const results = await runTasks(2, (rank) => ({ PMI_RANK: String(rank), PMI_SIZE: '2', PGAS_TOKEN: token, PGAS_ADVERTISE_HOST: '127.0.0.1' }),
    ['--rendezvous', '127.0.0.1:4999', ENV_RANK, '--exit-rank', '1', '--exit-code', '3', marker]);
  t.is(results[0]!.code, 0, results[0]!.stderr);
  const rep = report(results[0]!, 0);
  t.is(rep.rendezvous, '127.0.0.1:4999');
  t.is(rep.tokenSha, sha(token));
  t.is(rep.size, 2);
  t.is(results[1]!.code, 3);
  t.regex(results[1]!.stderr, /job failed: rank 1 exited with code 3/);
});

test.serial('scheduler errors: mpirun without a rendezvous, a Slurm batch script without srun', async (t) => {
  const ompi = await runLauncher([ENV_RANK], { env: baseEnv({ OMPI_COMM_WORLD_RANK: '0', OMPI_COMM_WORLD_SIZE: '2', PGAS_TOKEN: 'abcdefghij' }) });
  t.is(ompi.code, 2);
  t.regex(ompi.stderr, /pgas-run: error: under mpirun \(Open MPI\) pgas-run cannot tell where rank 0 is: pass --rendezvous HOST:PORT/);
  const batch = await runLauncher([ENV_RANK], { env: baseEnv({ SLURM_PROCID: '0', SLURM_NTASKS: '4', SLURM_JOB_ID: '77', SLURM_JOB_NODELIST: 'n1' }) });
  t.is(batch.code, 2);
  t.regex(batch.stderr, /this is the batch script, not a task of srun/);
});

uwsTest('srun tasks started by hand form one job that does put, get, notify and barrier', async (t) => {
  const marker = uniqueMarker('slurmreal');
  t.teardown(() => killMarked(marker));
  const port = await freePort();
  const job = String(Math.floor(Math.random() * 1e6));
  const results = await runTasks(3, (rank) => ({
    SLURM_PROCID: String(rank), SLURM_NTASKS: '3', SLURM_JOB_ID: job, SLURM_STEP_ID: '1',
    SLURM_STEP_NODELIST: 'localhost', SLURMD_NODENAME: 'localhost', PGAS_RENDEZVOUS_PORT: String(port),
  }), [PGAS_RANK, marker]);
  for (const [rank, r] of results.entries()) {
    t.is(r.code, 0, r.stderr + r.stdout);
    t.regex(r.stdout, new RegExp(`^\\[${rank}\\] rank ${rank}/3 ok `, 'm'));
  }
});

uwsTest('mpirun (Open MPI) tasks started by hand form one job', async (t) => {
  const marker = uniqueMarker('ompireal');
  t.teardown(() => killMarked(marker));
  const port = await freePort();
  const results = await runTasks(2, (rank) => ({
    OMPI_COMM_WORLD_RANK: String(rank), OMPI_COMM_WORLD_SIZE: '2', OMPI_MCA_ess_base_jobid: '4242',
    PGAS_RENDEZVOUS: `127.0.0.1:${port}`, PGAS_ADVERTISE_HOST: '127.0.0.1',
  }), [PGAS_RANK, marker]);
  for (const [rank, r] of results.entries()) {
    t.is(r.code, 0, r.stderr + r.stdout);
    t.regex(r.stdout, new RegExp(`^\\[${rank}\\] rank ${rank}/2 ok `, 'm'));
  }
});
