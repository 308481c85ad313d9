/**
 * The agent's identity at the controller, kept across restarts in the data directory: the id and
 * credential Register returned. Mode 0600: the credential authenticates every later call.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface AgentIdentity {
  agentId: string;
  credential: string;
}

export const STATE_FILE = 'agent.json';

export async function loadIdentity(dataDir: string): Promise<AgentIdentity | null> {
  let text: string;
  try {
    text = await readFile(join(dataDir, STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const v = JSON.parse(text) as Partial<AgentIdentity>;
  if (typeof v.agentId !== 'string' || typeof v.credential !== 'string') return null;
  return { agentId: v.agentId, credential: v.credential };
}

/** Written to a temporary file then renamed, so a crash never leaves half a file. */
export async function saveIdentity(dataDir: string, id: AgentIdentity): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, STATE_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(id)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
