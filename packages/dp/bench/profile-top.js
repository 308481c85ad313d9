/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, largest first.
 * Usable on its own: node packages/dp/bench/profile-top.js FILE.cpuprofile [N]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Returns the `limit` functions with the most self time as { name, where, percent }. */
export function topSelfTime(profile, limit) {
  // timeDeltas[i] is the time before samples[i]; a sample's node is where that time was spent.
  const selfUs = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + (timeDeltas[i] ?? 0));
  const byFunction = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    total += us;
    const cf = node.callFrame;
    // One line per function, however many call paths reach it.
    const where = cf.url ? `${basename(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'}\t${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  return [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, us]) => {
      const [name, where] = key.split('\t');
      return { name, where, percent: total > 0 ? (100 * us) / total : 0 };
    });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, n] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-top.js FILE.cpuprofile [N]');
  for (const h of topSelfTime(JSON.parse(readFileSync(file, 'utf8')), Number(n ?? 20))) {
    console.log(`${h.percent.toFixed(1).padStart(5)} %  ${h.name}  ${h.where}`);
  }
}
