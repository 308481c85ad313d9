/**
 * Every object in deploy/kubernetes validated against the Kubernetes API schemas that the
 * kubernetes-models package bundles (offline), plus the properties the design depends on.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { Namespace, Secret, Service } from 'kubernetes-models/v1';
import { DaemonSet, Deployment, StatefulSet } from 'kubernetes-models/apps/v1';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'deploy', 'kubernetes');

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
};

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [k: string]: any;
}

const docs: { file: string; doc: Doc }[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((file) => YAML.parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => ({ file, doc: d.toJS() as Doc })));

const find = (kind: string, name: string) => docs.find((d) => d.doc.kind === kind && d.doc.metadata.name === name)?.doc;

describe('deploy/kubernetes', () => {
  it.each(docs.map((d) => [`${d.file}: ${d.doc.kind}/${d.doc.metadata.name}`, d.doc] as const))('%s matches its API schema', (_name, doc) => {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    expect(Model, `no schema for ${doc.apiVersion}/${doc.kind}`).toBeDefined();
    expect(() => new Model(doc as never).validate()).not.toThrow();
  });

  it('the schemas do catch a broken object', () => {
    const ds = structuredClone(find('DaemonSet', 'mseg-agent'))!;
    ds.spec.template.spec.containers[0].securityContext.capabilities.add = 'NET_ADMIN';
    expect(() => new DaemonSet(ds as never).validate()).toThrow();
  });

  it('has the agent DaemonSet, controller Deployment + Service, join token Secret and PostgreSQL', () => {
    const ds = find('DaemonSet', 'mseg-agent')!;
    const pod = ds.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.hostPID).toBe(true);
    const agent = pod.containers[0];
    expect(agent.securityContext.capabilities.add).toEqual(expect.arrayContaining(['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN']));
    const hostPaths = pod.volumes.map((v: { hostPath?: { path: string } }) => v.hostPath?.path);
    expect(hostPaths).toEqual(expect.arrayContaining(['/var/run/docker.sock', '/run/netns', '/proc', '/sys']));
    expect(agent.env).toContainEqual({ name: 'MSEG_JOIN_TOKEN', valueFrom: { secretKeyRef: { name: 'mseg-join-token', key: 'token' } } });

    const dep = find('Deployment', 'mseg-controller')!;
    expect(dep.spec.replicas).toBeGreaterThan(1);
    expect(dep.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(['--db', '$(MSEG_DB)']));
    const svc = find('Service', 'mseg-controller')!;
    expect(svc.spec.selector).toEqual(dep.spec.selector.matchLabels);
    expect(svc.spec.ports.map((p: { port: number }) => p.port).sort()).toEqual([10443, 18400]);
    expect(find('Secret', 'mseg-join-token')!.stringData.token).toBeTruthy();
    expect(find('StatefulSet', 'mseg-postgres')!.spec.template.spec.containers[0].image).toMatch(/^postgres:/);
  });
});
