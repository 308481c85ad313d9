/**
 * `mseg demo [--down] [--policy]`: starts a small application (web → api → db and cache, plus a
 * client that misbehaves now and then) from an image built locally, or removes it. `--policy`
 * prints the policy document that allows its legitimate paths, for `mseg policies apply -f -`.
 */
import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { containerName, DEMO_LABEL, demoPolicy, NETWORK, runArgs, SERVICES } from '../demo/app.js';
import { docker, ensureDemoImage } from '../demo/image.js';
import { progress } from '../output/io.js';
import { DEFAULT_LAYOUT } from '../system/layout.js';

async function down(socket: string): Promise<number> {
  const ids = (await docker(socket, ['ps', '-aq', '--filter', `label=${DEMO_LABEL}`])).split('\n').filter(Boolean);
  if (ids.length) await docker(socket, ['rm', '-f', ...ids]);
  const nets = (await docker(socket, ['network', 'ls', '-q', '--filter', `name=^${NETWORK}$`])).split('\n').filter(Boolean);
  if (nets.length) await docker(socket, ['network', 'rm', NETWORK]);
  return ids.length;
}

export function demoCommand(ctx: CliContext): Command {
  return new Command('demo')
    .description('start (or --down: remove) a demo application: web, api, db (PostgreSQL), cache (Redis), dns and a client')
    .option('--down', 'remove the demo containers and network')
    .option('--policy', 'print the policy allowing the demo, for `mseg policies apply -f -`')
    .addOption(new Option('--docker-socket <path>', 'Docker Engine API socket').default(DEFAULT_LAYOUT.dockerSocket))
    .action(async (o: { down?: boolean; policy?: boolean; dockerSocket: string }) => {
      if (o.policy) {
        ctx.io.out(demoPolicy());
        return;
      }
      const p = progress(ctx.io, o.down ? 'demo down' : 'demo');
      if (o.down) {
        p.step('removing containers and network');
        const n = await down(o.dockerSocket);
        p.done(`removed ${n} container(s)`);
        return;
      }
      p.step('image');
      const image = await ensureDemoImage(o.dockerSocket, p);
      // A previous demo is replaced whole: the names are fixed.
      p.step('removing an earlier demo');
      await down(o.dockerSocket);
      p.step(`network ${NETWORK}`);
      await docker(o.dockerSocket, ['network', 'create', '--label', `${DEMO_LABEL}=1`, NETWORK]);
      for (const s of SERVICES) {
        p.step(`starting ${containerName(s.name)}`);
        await docker(o.dockerSocket, runArgs(image, s));
      }
      p.done(`${SERVICES.length} containers running`);
      ctx.io.out(
        [
          `demo running on network ${NETWORK}: ${SERVICES.map((s) => containerName(s.name)).join(', ')}`,
          '  client -> web (HTTP) -> api (HTTP) -> db (PostgreSQL), cache (Redis); client -> dns (DNS);',
          '  the client calls cache directly (not allowed) ~6 s after the start and every 20 s after',
          '  watch:   mseg workloads; mseg connections; mseg violations (within ~30 s)',
          '  protect: mseg demo --policy | mseg policies apply -f -   then   mseg mode <service> protect',
          '  remove:  mseg demo --down',
          '',
        ].join('\n'),
      );
    });
}
