/**
 * pgas-run as one task of `srun` or `mpirun`: the scheduler has already started one pgas-run per rank,
 * so each of them runs its program as that rank. Rank and size come from the scheduler's variables;
 * what the scheduler does not provide (where the rendezvous is, the token) is derived here, the same
 * way on every task, without the tasks talking to each other.
 *
 * Which scheduler: Open MPI's variables win (under `mpirun` inside a Slurm allocation, SLURM_PROCID
 * belongs to Open MPI's daemon, not to the rank), then PMI unless it merely repeats Slurm's numbers
 * (`srun --mpi=pmi2` sets both), then Slurm.
 *
 * The derived token (Slurm: job id, step id and user id; MPI: job id, rendezvous address and user id)
 * is predictable by anyone who knows those numbers — other users on the cluster can usually see job
 * ids. It keeps separate jobs apart, but it is not a secret: export PGAS_TOKEN before srun/mpirun (they
 * pass the environment on) when other users share the nodes.
 */
import { createHash } from 'node:crypto';
import { UsageError } from './errors.js';
import { expandNodelist } from './nodelist.js';

export type SchedulerKind = 'slurm' | 'ompi' | 'pmi';

export interface TaskEnvironment {
  kind: SchedulerKind;
  rank: number;
  size: number;
  rendezvous: { host: string; port: number };
  token: string;
  tokenDerived: boolean;
  listenHost: string;
  advertiseHost: string;
}

export interface TaskInputs {
  env: NodeJS.ProcessEnv;
  hostname: string;
  uid: number;
  /** --rendezvous host:port */
  rendezvous: string | undefined;
  /** --rendezvous-port */
  rendezvousPort: number | undefined;
  listenAny: boolean;
}

/** Ports 61000-65499: above Linux's default ephemeral range (32768-60999), so no outgoing connection holds them. */
export const DERIVED_PORT_BASE = 61000;
export const DERIVED_PORT_SPAN = 4500;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function derivePort(jobId: string, stepId: string): number {
  return DERIVED_PORT_BASE + (digest(`pgas-port:${jobId}.${stepId}`).readUInt32BE(0) % DERIVED_PORT_SPAN);
}

export function deriveToken(...parts: string[]): string {
  return digest(`pgas-token:${parts.join(':')}`).toString('hex').slice(0, 32);
}

function int(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`${name} must be a non-negative integer, got '${raw}'`);
  return Number(raw);
}

function splitHostPort(value: string, what: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(value.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || m[1] === '' || port < 1 || port > 65535) throw new UsageError(`${what} must be host:port, got '${value}'`);
  return { host: m[1]!, port };
}

/** Which scheduler started us, with rank and size; undefined when none did. */
export function detectScheduler(env: NodeJS.ProcessEnv): { kind: SchedulerKind; rank: number; size: number } | undefined {
  const ompiRank = int(env, 'OMPI_COMM_WORLD_RANK');
  const ompiSize = int(env, 'OMPI_COMM_WORLD_SIZE');
  if (ompiRank !== undefined && ompiSize !== undefined) return { kind: 'ompi', rank: ompiRank, size: ompiSize };
  const slurmRank = int(env, 'SLURM_PROCID');
  const slurmSize = int(env, 'SLURM_NTASKS');
  const pmiRank = int(env, 'PMI_RANK');
  const pmiSize = int(env, 'PMI_SIZE');
  if (pmiRank !== undefined && pmiSize !== undefined && !(pmiRank === slurmRank && pmiSize === slurmSize)) {
    return { kind: 'pmi', rank: pmiRank, size: pmiSize };
  }
  if (slurmRank !== undefined && slurmSize !== undefined) return { kind: 'slurm', rank: slurmRank, size: slurmSize };
  return undefined;
}

export function taskEnvironment(inputs: TaskInputs): TaskEnvironment | undefined {
  const { env } = inputs;
  const found = detectScheduler(env);
  if (!found) return undefined;
  const { kind, rank, size } = found;
  if (size < 1 || rank >= size) throw new UsageError(`${kind}: rank ${rank} is not below size ${size}`);

  const explicit = inputs.rendezvous ?? env.PGAS_RENDEZVOUS;
  let rendezvous: { host: string; port: number };
  let token = env.PGAS_TOKEN;
  let derivedToken: string;
  if (kind === 'slurm') {
    const jobId = env.SLURM_JOB_ID ?? env.SLURM_JOBID;
    const stepId = env.SLURM_STEP_ID ?? env.SLURM_STEPID;
    if (jobId === undefined) throw new UsageError('SLURM_PROCID is set but SLURM_JOB_ID is not; is this a Slurm task?');
    if (stepId === undefined) {
      // A batch script is "task 0" of the allocation but not a task of a job step.
      throw new UsageError(
        'SLURM_PROCID is set but SLURM_STEP_ID is not: this is the batch script, not a task of srun. ' +
          'Start the job with `srun pgas-run PROGRAM` (one pgas-run per rank), or give -n N for local ranks',
      );
    }
    if (explicit !== undefined) {
      rendezvous = splitHostPort(explicit, inputs.rendezvous ? '--rendezvous' : 'PGAS_RENDEZVOUS');
    } else {
      const nodes = env.SLURM_STEP_NODELIST ?? env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST;
      if (!nodes) throw new UsageError('under Slurm, SLURM_STEP_NODELIST (or SLURM_JOB_NODELIST) is needed to find rank 0\'s host');
      const portVar = int(env, 'PGAS_RENDEZVOUS_PORT');
      rendezvous = {
        host: expandNodelist(nodes)[0]!,
        port: inputs.rendezvousPort ?? portVar ?? derivePort(jobId, stepId),
      };
    }
    derivedToken = deriveToken('slurm', jobId, stepId, String(inputs.uid));
  } else {
    if (explicit === undefined) {
      throw new UsageError(
        `under ${kind === 'ompi' ? 'mpirun (Open MPI)' : 'a PMI launcher'} pgas-run cannot tell where rank 0 is: ` +
          'pass --rendezvous HOST:PORT (HOST = the host of rank 0) or set PGAS_RENDEZVOUS',
      );
    }
    rendezvous = splitHostPort(explicit, inputs.rendezvous ? '--rendezvous' : 'PGAS_RENDEZVOUS');
    const jobId = ['OMPI_MCA_ess_base_jobid', 'OMPI_MCA_orte_ess_jobid', 'PMIX_NAMESPACE', 'PMI_JOBID', 'SLURM_JOB_ID']
      .map((n) => env[n]).find((v) => v !== undefined && v !== '');
    if (token === undefined && jobId === undefined) {
      throw new UsageError('no job id to derive the token from: set PGAS_TOKEN for every task (e.g. mpirun -x PGAS_TOKEN)');
    }
    derivedToken = deriveToken(kind, jobId ?? '', `${rendezvous.host}:${rendezvous.port}`, String(inputs.uid));
  }
  const tokenDerived = token === undefined || token === '';
  if (tokenDerived) token = derivedToken;
  else if (token!.length < 8) throw new UsageError('PGAS_TOKEN must be at least 8 characters');

  const advertiseHost = env.PGAS_ADVERTISE_HOST || (kind === 'slurm' ? env.SLURMD_NODENAME : undefined) || inputs.hostname;
  const listenHost = env.PGAS_LISTEN_HOST || (inputs.listenAny ? '0.0.0.0' : advertiseHost);
  return { kind, rank, size, rendezvous, token: token!, tokenDerived, listenHost, advertiseHost };
}
