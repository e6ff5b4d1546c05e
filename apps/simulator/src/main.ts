import { ConfigError, loadConfig, type SimulatorConfig } from './config.js';
import { createSimulator } from './server.js';

function logLine(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

/** Fails fast, naming the bad variable, before anything listens. */
function loadConfigOrExit(): SimulatorConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: error.message })}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const simulator = createSimulator(config.options);
  const { url, port } = await simulator.listen(config.port, config.host);
  logLine({
    level: 'info',
    msg: 'simulator listening',
    url,
    port,
    openai_base_url: `${url}/v1`,
    latency_ms: config.options.latencyMs,
    limits: config.options.limits,
  });

  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logLine({ level: 'info', msg: 'simulator shutting down', signal });
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

await main();
