// deploy/logging (Docker cannot run here): the compose file is valid YAML with the backends the README
// names, on the ports the service's defaults expect, and the Fluentd config accepts what the service sends.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { predictionLogSettings } from '../../src/contract/environment.js';
import { trainedProject } from '../support/trainedModel.js';

const compose = parse(readFileSync('deploy/logging/docker-compose.yml', 'utf8')) as {
  services: Record<string, { profiles?: string[]; ports?: string[]; image?: string; build?: string }>;
};
const fluentConf = readFileSync('deploy/logging/fluentd/fluent.conf', 'utf8');

/** Fluentd's tag patterns: `*` matches within one tag part, `**` zero or more whole parts. */
function fluentdPatternMatches(pattern: string, tag: string): boolean {
  const matches = (parts: string[], words: string[]): boolean => {
    const [part, ...rest] = parts;
    if (part === undefined) return words.length === 0;
    if (part === '**') return words.some((_, i) => matches(rest, words.slice(i))) || matches(rest, []);
    const word = new RegExp(
      `^${part
        .split('*')
        .map((text) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^.]*')}$`,
    );
    return words.length > 0 && word.test(words[0]!) && matches(rest, words.slice(1));
  };
  return matches(pattern.split('.'), tag.split('.'));
}

describe('prediction log deployment helpers', () => {
  it('compose runs Fluentd, Elasticsearch and Kibana (profile efk) and MongoDB (profile mongodb) on loopback', () => {
    const { services } = compose;
    assert.deepEqual(Object.keys(services).sort(), ['elasticsearch', 'fluentd', 'kibana', 'mongodb']);
    for (const name of ['fluentd', 'elasticsearch', 'kibana']) assert.deepEqual(services[name]!.profiles, ['efk']);
    assert.deepEqual(services.mongodb!.profiles, ['mongodb']);
    assert.ok(services.fluentd!.ports!.includes('127.0.0.1:24224:24224'));
    assert.ok(services.mongodb!.ports!.includes('127.0.0.1:27017:27017'));
  });

  it('Fluentd listens for the Forward protocol where the service sends by default, and matches its tag', async () => {
    const { spec } = await trainedProject();
    const settings = predictionLogSettings(spec.config, {});
    assert.match(fluentConf, /<source>\s*@type forward[^<]*port (\d+)/);
    assert.equal(Number(/<source>\s*@type forward[^<]*port (\d+)/.exec(fluentConf)![1]), settings.fluentd.port);
    const patterns = [...fluentConf.matchAll(/<match ([^>]+)>/g)].flatMap((match) => match[1]!.split(/\s+/));
    assert.ok(
      patterns.some((pattern) => fluentdPatternMatches(pattern, settings.fluentd.tag)),
      `no <match> in fluent.conf for ${settings.fluentd.tag}`,
    );
    assert.match(fluentConf, /id_key record_id/); // the record's idempotency key
    assert.ok(fluentdPatternMatches('**.prediction', 'a.prediction') && !fluentdPatternMatches('**.prediction', 'a.predictions'));
  });
});
