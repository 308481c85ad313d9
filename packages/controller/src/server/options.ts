/**
 * Command-line flags of `mseg-controller`, parsed with commander into ControllerOptions. Every bad
 * value is refused with a message naming the flag (UsageError; main exits 2).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { ControllerOptions } from './context.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

function port(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number 0-65535');
  return Number(value);
}

function dbUrl(value: string): string {
  if (!/^(postgres(ql)?:\/\/.+|sqlite:.+)$/.test(value)) throw new InvalidArgumentError('must be postgres://… or sqlite:FILE');
  return value;
}

function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty');
  return value;
}

function program(): Command {
  return new Command('mseg-controller')
    .description('mseg controller: REST API for the UI and CLI, gRPC for agents')
    .addOption(new Option('--data-dir <dir>', 'state directory (SQLite store, TLS certificate)').default('/var/lib/mseg').argParser(nonEmpty))
    .addOption(new Option('--api-port <n>', 'REST API port').default(10443).argParser(port))
    .addOption(new Option('--grpc-port <n>', 'gRPC port for agents').default(18400).argParser(port))
    .addOption(new Option('--host <addr>', 'address to listen on').default('0.0.0.0').argParser(nonEmpty))
    .addOption(new Option('--no-tls', 'serve the REST API over plain HTTP (local tooling only)'))
    .addOption(new Option('--tls-cert <file>', 'PEM certificate (with --tls-key) instead of the self-signed one').argParser(nonEmpty))
    .addOption(new Option('--tls-key <file>', 'PEM private key for --tls-cert').argParser(nonEmpty))
    .addOption(new Option('--db <url>', 'store: postgres://… (default: SQLite file in the data dir)').argParser(dbUrl))
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
}

/**
 * Parses argv (without node and the script). Returns null when only help or the version was asked
 * for (commander has printed it); throws UsageError on any bad flag.
 */
export function parseOptions(argv: string[], out: (text: string) => void = (t) => process.stdout.write(t)): ControllerOptions | null {
  const cmd = program().configureOutput({ writeOut: out, writeErr: () => {} });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return null;
      throw new UsageError(e.message.replace(/^error: /, ''));
    }
    throw e;
  }
  const o = cmd.opts<{ dataDir: string; apiPort: number; grpcPort: number; host: string; tls: boolean; tlsCert?: string; tlsKey?: string; db?: string }>();
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
    throw new UsageError(o.tlsCert ? 'option --tls-cert needs --tls-key' : 'option --tls-key needs --tls-cert');
  }
  if (!o.tls && o.tlsCert) throw new UsageError('option --no-tls cannot be combined with --tls-cert/--tls-key');
  if (o.apiPort !== 0 && o.apiPort === o.grpcPort) throw new UsageError(`options --api-port and --grpc-port are both ${o.apiPort}`);
  return {
    dataDir: o.dataDir,
    apiPort: o.apiPort,
    grpcPort: o.grpcPort,
    host: o.host,
    noTls: !o.tls,
    ...(o.tlsCert ? { tlsCert: o.tlsCert, tlsKey: o.tlsKey } : {}),
    ...(o.db ? { db: o.db } : {}),
  };
}
