import { describe, expect, it } from 'vitest';
import { imageName, serviceName } from './service.js';

describe('imageName', () => {
  it.each([
    ['nginx', 'nginx'],
    ['nginx:1.25', 'nginx'],
    ['docker.io/library/nginx:1.25', 'nginx'],
    ['library/redis', 'redis'],
    ['mseg-test/web:bca8afb07c00', 'mseg-test/web'],
    ['ghcr.io/acme/api:v2', 'acme/api'],
    ['registry.local:5000/team/api:1.2@sha256:' + 'a'.repeat(64), 'team/api'],
    ['localhost/app', 'app'],
    ['localhost:5000/app:dev', 'app'],
    ['quay.io/org/sub/img', 'org/sub/img'],
    ['app@sha256:' + 'b'.repeat(64), 'app'],
    ['sha256:' + 'c'.repeat(64), ''],
    ['d'.repeat(64), ''],
  ])('%s → %s', (image, name) => {
    expect(imageName(image)).toBe(name);
  });
});

describe('serviceName', () => {
  it('prefers the mseg.service label', () => {
    expect(serviceName({ 'mseg.service': 'payments', 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'api' }, 'nginx', 'c1')).toBe(
      'payments',
    );
  });
  it('then compose project.service', () => {
    expect(serviceName({ 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'api' }, 'acme/api:2', 'shop-api-1')).toBe('shop.api');
  });
  it('ignores a half compose label set and a blank mseg.service', () => {
    expect(serviceName({ 'mseg.service': '  ', 'com.docker.compose.service': 'api' }, 'docker.io/acme/api:2', 'x')).toBe('acme/api');
  });
  it('falls back to the container name for an image given by id', () => {
    expect(serviceName({}, 'sha256:' + 'e'.repeat(64), 'jolly_turing')).toBe('jolly_turing');
  });
});
