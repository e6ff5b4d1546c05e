import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface RedisClusterOptions {
  /** Parent directory; each node gets its own `node-<port>` directory inside it. Created if missing. */
  dir: string;
  /** Default 3, the fewest `redis-cli --cluster create` accepts. */
  masters?: number;
  /** Default 1. */
  replicasPerMaster?: number;
  /** Binaries to run. Default: `redis-server` and `redis-cli` on PATH. */
  serverBinary?: string;
  cliBinary?: string;
}

export type RedisClusterRole = 'master' | 'replica';

export interface RedisClusterNode {
  port: number;
  /** `redis://127.0.0.1:<port>`: this node alone, for commands a cluster client would route elsewhere. */
  url: string;
  /** The role the node had when the cluster was formed; `masters()` tells the current ones. */
  role: RedisClusterRole;
  /** The node's own directory (AOF, `nodes.conf`, `redis.log`). */
  dir: string;
  process: ChildProcess;
  /** Sends the signal (default SIGKILL, as a crash would) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface RunningRedisCluster {
  nodes: RedisClusterNode[];
  /** `127.0.0.1:<port>` of every node, for a cluster client's startup nodes. */
  seeds: string[];
  /** `redis-cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,...`: every node as a seed, in one URL. */
  url: string;
  /** Masters that serve slots now, as a live node sees them (a failover promotes a replica). */
  masters(): Promise<Array<{ port: number; id: string }>>;
  killNode(port: number, signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM to every node still running, then waits for all of them; files are left in place. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** Redis Cluster nodes talk to each other on the client port plus this. */
const BUS_PORT_OFFSET = 10_000;
/**
 * A node is marked failed after this long without answering, then its replica is elected within
 * about a second: small so a test's failover takes seconds, not the default 15 s.
 */
const NODE_TIMEOUT_MS = 2_000;
const START_TIMEOUT_MS = 10_000;
const FORM_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * A free port whose bus port is free too. The kernel hands out ephemeral ports up to 60999, so
 * about a fifth of them have no bus port at all (above 55535) and are drawn again.
 */
async function freeNodePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await freePort();
    const bus = port + BUS_PORT_OFFSET;
    if (bus > 65_535 || taken.has(port) || taken.has(bus)) continue;
    if (await portIsFree(bus)) return port;
  }
  throw new Error('no free port pair (port, port + 10000) on 127.0.0.1 after 100 attempts');
}

/** Waiting or trying again cannot help. */
class MissingBinaryError extends Error {}

/** A node that exited while starting, most likely because another process took its port meanwhile. */
class NodeExitedError extends Error {}

/** One redis-cli call. It prints error replies on stdout and still exits 0, so callers check what they get. */
async function cli(binary: string, port: number, args: string[], timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['-h', HOST, '-p', String(port), ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error && 'code' in error && error.code === 'ENOENT') {
        reject(new MissingBinaryError(`cannot run ${binary}; install it: apt-get install -y redis-tools`));
      } else if (error) {
        reject(new Error(`redis-cli ${args.join(' ')} on ${port}: ${error.message} ${stderr}`.trim()));
      } else resolve(stdout);
    });
  });
}

/** `field:value` lines of INFO and CLUSTER INFO. */
function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** Flags of a node some peer cannot reach or has not fully met yet. */
const UNHEALTHY_FLAGS = new Set(['fail', 'fail?', 'handshake', 'noaddr']);

interface ClusterNodesLine {
  id: string;
  port: number;
  flags: string[];
  hasSlots: boolean;
}

/** CLUSTER NODES: `<id> <ip:port@bus> <flags> <master-id|-> <ping> <pong> <epoch> <link> [slots...]`. */
function parseClusterNodes(text: string): ClusterNodesLine[] {
  const lines: ClusterNodesLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    const [id, address, flags, , , , , , ...slots] = line.trim().split(' ');
    const port = Number(/:(\d+)@/.exec(address ?? '')?.[1]);
    if (!id || !flags || !Number.isInteger(port)) continue;
    lines.push({ id, port, flags: flags.split(','), hasSlots: slots.length > 0 });
  }
  return lines;
}

/** Nodes started before the cluster formed, so a failure midway can stop the ones already up. */
interface StartedNode {
  port: number;
  dir: string;
  process: ChildProcess;
  exited: Promise<void>;
  signal(signal: NodeJS.Signals): Promise<void>;
}

async function readLogTail(dir: string): Promise<string> {
  const log = await readFile(join(dir, 'redis.log'), 'utf8').catch(() => '');
  return log.split('\n').slice(-10).join('\n');
}

async function waitForPing(cliBinary: string, node: StartedNode): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  void node.exited.then(() => (exited = true));
  for (;;) {
    // PONG, not merely an open socket: a node still loading its AOF answers LOADING.
    const reply = await cli(cliBinary, node.port, ['PING'], 1_000).catch((error: unknown) => {
      if (error instanceof MissingBinaryError) throw error;
      return '';
    });
    if (reply.trim() === 'PONG') return;
    if (exited) throw new NodeExitedError(`redis-server on ${node.port} exited: ${await readLogTail(node.dir)}`);
    if (Date.now() > deadline) {
      const log = await readLogTail(node.dir);
      throw new Error(`redis-server on ${node.port} did not answer PING within ${START_TIMEOUT_MS} ms: ${log}`);
    }
    await sleep(25);
  }
}

async function startNode(root: string, serverBinary: string, cliBinary: string, port: number): Promise<StartedNode> {
  const dir = join(root, `node-${port}`);
  // Not recursive: a directory left by an earlier cluster holds a nodes.conf naming other nodes,
  // which would make this node refuse to join a new cluster.
  await mkdir(dir);
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--protected-mode',
    'no',
    '--dir',
    dir,
    '--cluster-enabled',
    'yes',
    // Relative to --dir, so each node keeps its own view of the cluster.
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(NODE_TIMEOUT_MS),
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--maxmemory-policy',
    'noeviction',
    // Redis 7 syncs replicas diskless and waits 5 s for more replicas to share one transfer; each
    // master here gets its few replicas at once, so the wait only delayed the cluster being ready.
    '--repl-diskless-sync-delay',
    '0',
    // As startRedisServer: llmq's JSON values stay listpacks up to 8 KiB, half the memory.
    '--hash-max-listpack-value',
    '8192',
    '--daemonize',
    'no',
    // A log per node, so a failover can be followed afterwards (elections, promotions).
    '--logfile',
    join(dir, 'redis.log'),
    '--loglevel',
    'notice',
  ];
  const child = spawn(serverBinary, args, { stdio: 'ignore' });
  // A binary that cannot be spawned emits 'error' and never 'exit'; either means no process runs.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const spawnError = new Promise<never>((_resolve, reject) => {
    child.once('error', (error) =>
      reject(
        new MissingBinaryError(
          `cannot start redis-server (${error.message}); install it: apt-get install -y redis-server`,
        ),
      ),
    );
  });
  const node: StartedNode = {
    port,
    dir,
    process: child,
    exited,
    signal: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  await Promise.race([waitForPing(cliBinary, node), spawnError]).catch(async (error: unknown) => {
    await node.signal('SIGKILL');
    throw error;
  });
  return node;
}

/**
 * Nodes start in parallel; a port taken between choosing and binding (another process won the race)
 * shows as a node that exits at once, and that node is started again on another port.
 */
async function startNodes(options: Required<RedisClusterOptions>, count: number): Promise<StartedNode[]> {
  const taken = new Set<number>();
  const startOne = async (): Promise<StartedNode> => {
    for (let attempt = 1; ; attempt++) {
      const port = await freeNodePort(taken);
      taken.add(port).add(port + BUS_PORT_OFFSET);
      try {
        return await startNode(options.dir, options.serverBinary, options.cliBinary, port);
      } catch (error) {
        if (!(error instanceof NodeExitedError) || attempt >= 3) throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: count }, startOne));
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((node) => node.signal('SIGTERM')));
    throw failed.reason;
  }
  return started;
}

/**
 * Every node agrees the cluster is whole: it is ok, sees all slots served by the expected number of
 * masters and every other node as a healthy replica (gossip reaches nodes one by one, so one node
 * can still list a fresh replica as a master without slots), and each replica has finished its
 * first sync (before that a failover could promote an empty replica).
 */
async function clusterReady(cliBinary: string, ports: number[], masters: number): Promise<boolean> {
  for (const port of ports) {
    const info = infoFields(await cli(cliBinary, port, ['CLUSTER', 'INFO']));
    if (info.get('cluster_state') !== 'ok' || info.get('cluster_slots_ok') !== '16384') return false;
    const view = parseClusterNodes(await cli(cliBinary, port, ['CLUSTER', 'NODES']));
    const healthy = view.filter((line) => !line.flags.some((flag) => UNHEALTHY_FLAGS.has(flag)));
    if (view.length !== ports.length || healthy.length !== ports.length) return false;
    const serving = healthy.filter((line) => line.flags.includes('master') && line.hasSlots);
    const replicas = healthy.filter((line) => line.flags.includes('slave'));
    if (serving.length !== masters || replicas.length !== ports.length - masters) return false;
    const replication = infoFields(await cli(cliBinary, port, ['INFO', 'replication']));
    if (replication.get('role') === 'slave') {
      if (replication.get('master_link_status') !== 'up') return false;
      if (replication.get('master_sync_in_progress') !== '0') return false;
    }
  }
  return true;
}

async function waitForCluster(cliBinary: string, ports: number[], masters: number): Promise<void> {
  const deadline = Date.now() + FORM_TIMEOUT_MS;
  while (!(await clusterReady(cliBinary, ports, masters))) {
    if (Date.now() > deadline)
      throw new Error(`redis cluster on ${ports.join(',')} not ready within ${FORM_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

/**
 * `redis-cli --cluster create` assigns the slots, introduces the nodes and attaches replicas, and
 * is what the Redis docs use; doing CLUSTER ADDSLOTSRANGE/MEET/REPLICATE by hand would repeat it.
 * It warns that replicas share their master's host (all of them are on 127.0.0.1) and goes on.
 */
async function createCluster(cliBinary: string, ports: number[], replicasPerMaster: number): Promise<void> {
  const [first] = ports;
  if (first === undefined) throw new Error('no nodes');
  const seeds = ports.map((port) => `${HOST}:${port}`);
  const args = ['--cluster', 'create', ...seeds, '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'];
  const output = await cli(cliBinary, first, args, FORM_TIMEOUT_MS);
  if (!output.includes('[OK] All 16384 slots covered'))
    throw new Error(`redis-cli --cluster create failed:\n${output}`);
}

async function clusterNodes(cliBinary: string, ports: number[]): Promise<ClusterNodesLine[]> {
  const errors: string[] = [];
  for (const port of ports) {
    try {
      const lines = parseClusterNodes(await cli(cliBinary, port, ['CLUSTER', 'NODES'], 2_000));
      if (lines.length > 0) return lines;
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  throw new Error(`no live node answered CLUSTER NODES: ${errors.join('; ')}`);
}

/**
 * Starts `masters × (1 + replicasPerMaster)` redis-server processes in cluster mode on loopback,
 * each with its own directory, AOF and free port pair, and forms one cluster of them. Resolves once
 * every node reports `cluster_state:ok` and every replica is in sync.
 */
export async function startRedisCluster(options: RedisClusterOptions): Promise<RunningRedisCluster> {
  const settings: Required<RedisClusterOptions> = {
    masters: 3,
    replicasPerMaster: 1,
    serverBinary: 'redis-server',
    cliBinary: 'redis-cli',
    ...options,
  };
  if (!Number.isInteger(settings.masters) || settings.masters < 3) {
    throw new Error(
      `masters must be an integer of at least 3 (redis-cli --cluster create needs 3): ${settings.masters}`,
    );
  }
  if (!Number.isInteger(settings.replicasPerMaster) || settings.replicasPerMaster < 0) {
    throw new Error(`replicasPerMaster must be a non-negative integer: ${settings.replicasPerMaster}`);
  }
  await mkdir(settings.dir, { recursive: true });
  const started = await startNodes(settings, settings.masters * (1 + settings.replicasPerMaster));
  const ports = started.map((node) => node.port);
  const stop = async () => {
    await Promise.all(started.map((node) => node.signal('SIGTERM')));
  };
  let formed: ClusterNodesLine[];
  try {
    await createCluster(settings.cliBinary, ports, settings.replicasPerMaster);
    await waitForCluster(settings.cliBinary, ports, settings.masters);
    formed = await clusterNodes(settings.cliBinary, ports);
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes = started.map((node): RedisClusterNode => {
    const isMaster = formed.find((line) => line.port === node.port)?.flags.includes('master') ?? false;
    return {
      port: node.port,
      url: `redis://${HOST}:${node.port}`,
      role: isMaster ? 'master' : 'replica',
      dir: node.dir,
      process: node.process,
      kill: (signal = 'SIGKILL') => node.signal(signal),
    };
  });
  const seeds = ports.map((port) => `${HOST}:${port}`);
  const livePorts = () =>
    started.filter((node) => node.process.exitCode === null && node.process.signalCode === null).map((n) => n.port);
  return {
    nodes,
    seeds,
    url: `redis-cluster://${seeds.join(',')}`,
    masters: async () => {
      const lines = await clusterNodes(settings.cliBinary, livePorts());
      // A killed master stays listed as `master,fail` until forgotten; without slots it serves nothing.
      return lines
        .filter((line) => line.flags.includes('master') && !line.flags.some((flag) => UNHEALTHY_FLAGS.has(flag)))
        .filter((line) => line.hasSlots)
        .map((line) => ({ port: line.port, id: line.id }));
    },
    killNode: async (port, signal = 'SIGKILL') => {
      const node = nodes.find((candidate) => candidate.port === port);
      if (!node) throw new Error(`no node of this cluster listens on ${port}`);
      await node.kill(signal);
    },
    stop,
  };
}
