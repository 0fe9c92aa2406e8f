// Entry point: read the configuration, start the server, stop it gracefully
// on SIGTERM or SIGINT.

import { ConfigError, loadConfig } from './config.js';
import { startServer } from './server.js';

/** Exit code for a configuration the server cannot start with. */
const EXIT_CONFIG = 2;

function readConfig() {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`error: ${err.message}`);
    process.exit(EXIT_CONFIG);
  }
}

const config = readConfig();

let server;
try {
  server = await startServer(config);
} catch (err) {
  console.error(`error: cannot listen on ${config.host}:${config.port}: ${err.message}`);
  process.exit(1);
}

// The first signal starts a graceful shutdown. The listeners are removed by
// `once`, so a second Ctrl+C falls back to Node's default and ends the
// process at once.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, async () => {
    await server.shutdown();
    process.exit(0);
  });
}
