// The GitHub workflows cannot run here; what can be checked is that they parse, stay inside the
// CI time budget, and only call scripts and tools that exist, in the order a safe release needs.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ROOT, readJson } from '../lib/workspace.mjs';

const dir = join(ROOT, '.github', 'workflows');
const workflows = Object.fromEntries(
  readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => [f, parse(readFileSync(join(dir, f), 'utf8'))]),
);
const steps = (workflow) => Object.values(workflow.jobs).flatMap((job) => job.steps ?? []);
const commands = (workflow) =>
  steps(workflow).flatMap((s) => [s.run, s.with?.publish, s.with?.version].filter((c) => typeof c === 'string'));

test('every workflow parses, and every job has a time limit within the 30 minute CI budget', () => {
  assert.ok(workflows['ci.yml'] && workflows['release.yml']);
  for (const [file, workflow] of Object.entries(workflows))
    for (const [name, job] of Object.entries(workflow.jobs)) {
      assert.ok(job['timeout-minutes'] <= 30, `${file}: job ${name} needs timeout-minutes <= 30`);
      assert.ok((job.steps ?? []).length > 0, `${file}: job ${name} has no steps`);
    }
});

test('the tools, scripts and package folders the workflows name exist', () => {
  const scripts = readJson(join(ROOT, 'package.json')).scripts;
  for (const [file, workflow] of Object.entries(workflows))
    for (const command of commands(workflow)) {
      for (const [, tool] of command.matchAll(/node (tools\/[\w./-]+\.mjs)/g))
        assert.ok(existsSync(join(ROOT, tool)), `${file} runs ${tool}, which does not exist`);
      for (const [, script] of command.matchAll(/npm run ([\w:-]+)/g))
        assert.ok(scripts[script], `${file} runs npm script "${script}", which package.json lacks`);
    }
});

test('CI runs npm test with the release test on', () => {
  const test = steps(workflows['ci.yml']).find((s) => s.run === 'npm test');
  assert.equal(test?.env?.IIH_RELEASE_TEST, '1');
});

test('a release checks the packed packages before publishing, and bundles only after publishing', () => {
  const { jobs } = workflows['release.yml'];
  const changesets = jobs.release.steps.find((s) => String(s.uses).startsWith('changesets/action@'));
  assert.ok(changesets, 'the release job uses changesets/action');
  const publish = changesets.with.publish;
  assert.ok(
    publish.indexOf('tools/release-check.mjs') >= 0 &&
      publish.indexOf('tools/release-check.mjs') < publish.indexOf('changeset publish'),
    `publish must run release-check first: ${publish}`,
  );
  assert.match(publish, /release-check\.mjs &&/, 'a failing check must stop the publish');
  assert.equal(jobs.bundles.needs, 'release');
  assert.match(jobs.bundles.if, /published == 'true'/);
  assert.ok(commands(workflows['release.yml']).some((c) => c.includes('node tools/bundle.mjs')));
});

test('the YAML examples in docs/deployment.md parse, and the engine config shares Redis and RabbitMQ', () => {
  const text = readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8');
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]));
  assert.ok(blocks.length >= 2);
  const engine = blocks.find((b) => Array.isArray(b?.workers));
  const adapter = (name) => engine.workers.find((w) => w.name === name)?.config?.adapter;
  for (const name of ['iii-state', 'iii-stream', 'iii-pubsub', 'iii-cron'])
    assert.deepEqual(adapter(name), { name: 'redis', config: { redis_url: '${REDIS_URL}' } }, name);
  assert.deepEqual(adapter('queue'), { name: 'rabbitmq', config: { amqp_url: '${AMQP_URL}' } });
});
