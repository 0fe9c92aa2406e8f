// Run-time configuration: the environment, falling back to the spec's values.

import {
  COMPRESSION,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PORT,
} from './spec.js';

/** A variable with a value the server cannot run with. */
export class ConfigError extends Error {
  name = 'ConfigError';
}

/**
 * Reads the configuration from `env`.
 *
 * @param {NodeJS.ProcessEnv} env
 * @returns {{
 *   host: string,
 *   port: number,
 *   maxPayload: number,
 *   pingIntervalMs: number,
 *   compression: typeof COMPRESSION | null,
 * }}
 * @throws {ConfigError} naming the variable, its value and what is expected.
 */
export function loadConfig(env) {
  const compressionEnabled = readBoolean(env, 'WS_COMPRESSION', COMPRESSION.enabled);
  return {
    host: readHost(env, 'HOST', '0.0.0.0'),
    port: readInteger(env, 'PORT', DEFAULT_PORT, 1, 65_535),
    maxPayload: readInteger(env, 'WS_MAX_PAYLOAD', DEFAULT_MAX_PAYLOAD, 1, 1_099_511_627_776),
    pingIntervalMs: readInteger(env, 'WS_PING_INTERVAL', DEFAULT_PING_INTERVAL_MS, 1, 86_400_000),
    compression: compressionEnabled ? COMPRESSION : null,
  };
}

function readInteger(env, name, fallback, min, max) {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) {
    throw invalid(name, raw, `an integer from ${min} to ${max}`);
  }
  return value;
}

const BOOLEANS = new Map([
  ['true', true],
  ['1', true],
  ['false', false],
  ['0', false],
]);

function readBoolean(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined) return fallback;
  if (!BOOLEANS.has(raw)) throw invalid(name, raw, 'true or false (or 1 or 0)');
  return BOOLEANS.get(raw);
}

function readHost(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined) return fallback;
  if (raw.trim() === '') throw invalid(name, raw, 'an address to bind, such as 127.0.0.1');
  return raw;
}

function invalid(name, raw, expected) {
  return new ConfigError(`invalid ${name}=${JSON.stringify(raw)}: expected ${expected}`);
}
