/** Just enough of the Docker Engine API for `down`: the pids of running containers, over the socket. */
import { request } from 'node:http';
import { CliError } from '../errors.js';

function get<T>(socketPath: string, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 400) return reject(new CliError('MSEG_ERR_CLI_DOCKER', `GET ${path}: ${res.statusCode} ${body.trim()}`));
        try {
          resolve(JSON.parse(body) as T);
        } catch (e) {
          reject(new CliError('MSEG_ERR_CLI_DOCKER', `GET ${path}: not JSON`, { cause: e }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (e) => reject(new CliError('MSEG_ERR_CLI_DOCKER', `${socketPath}: ${e.message}`, { cause: e })));
    req.end();
  });
}

/** Pids of the running containers' first processes (0 for one not running). */
export async function containerPids(socketPath: string): Promise<number[]> {
  const list = await get<{ Id: string }[]>(socketPath, '/containers/json');
  const pids: number[] = [];
  for (const c of list) {
    const info = await get<{ State?: { Pid?: number } }>(socketPath, `/containers/${c.Id}/json`);
    if (info.State?.Pid) pids.push(info.State.Pid);
  }
  return pids;
}
