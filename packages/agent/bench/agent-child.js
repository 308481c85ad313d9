// The real Agent (the class mseg-agent runs) in a process of its own, so the benches measure its
// RSS and CPU apart from their own; it tells the parent over IPC when taps and Protect tables are
// done (the observer hooks mseg-agent leaves unused). argv[2]: the AgentOptions as JSON.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const { Agent } = await import(join(dirname(fileURLToPath(import.meta.url)), '../dist/agent.js'));
const send = (m) => process.connected && process.send(m);
const agent = new Agent(JSON.parse(process.argv[2]), (line) => send({ log: line }), {
  onTap: (s) => s.kind === 'done' && send({ tap: s.key, deleted: s.message === 'deleted', at: Date.now() }),
  onProtectApplied: (id, provisional) => send({ table: id, provisional, at: Date.now() }),
});
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  agent.stop().finally(() => process.exit(0));
};
process.on('message', (m) => {
  if (m === 'stop') stop();
  if (m === 'dp') send({ dp: agent.dp.status().pid });
});
process.on('disconnect', stop);
process.on('SIGTERM', stop);
await agent.start();
send({ started: true });
