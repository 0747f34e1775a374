// npm run predict: a CSV file scored offline (src/cli/predict.ts, run as a process as users run it) with the same
// validation, preprocessing and model as the API. The input is this project's own training data, so the test holds
// whatever features.yaml holds; one bad value and one empty required cell are put in to be refused by line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { csvColumn } from '../../src/data/rows.js';
import { OnnxPredictor, type Predictor } from '../../src/runtime/predictor.js';
import type { Spec } from '../../src/contract/index.js';
import { featureRows } from '../support/monitoring.js';
import { trainedProject } from '../support/trainedModel.js';

const ROWS = 20;

/** Runs `npm run predict`'s script in the project with the test's model store; stdout, stderr and the exit status. */
function predict(args: string[], modelDir: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/predict.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, MODEL_DIR: modelDir },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const csvText = (records: readonly string[][]) =>
  records.map((cells) => cells.map((cell) => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell)).join(',')).join('\n') +
  '\n';

describe('npm run predict: scoring a CSV file', () => {
  let spec: Spec;
  let modelDir: string;
  let predictor: Predictor;
  let dir: string;
  /** The training CSV's header and its first rows. */
  let header: string[];
  let body: string[][];

  before(async () => {
    const project = await trainedProject();
    ({ spec, modelDir } = project);
    predictor = await OnnxPredictor.load(modelDir, spec);
    dir = mkdtempSync(join(tmpdir(), 'predict-'));
    [header = [], ...body] = parse(readFileSync(spec.config.data.path, 'utf8'), { bom: true, skip_empty_lines: true }) as string[][];
    body = body.slice(0, ROWS);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('scores every row with the served model, into <input>.predictions.csv next to the input (exit 0)', async () => {
    const input = join(dir, 'all.csv');
    writeFileSync(input, csvText([header, ...body]));
    const { status, stderr } = predict([input], modelDir);
    assert.equal(status, 0, stderr);
    assert.match(stderr, new RegExp(`${body.length} rows scored`));
    const [outHeader, ...out] = parse(readFileSync(join(dir, 'all.predictions.csv'), 'utf8')) as string[][];
    assert.deepEqual(outHeader!.slice(0, header.length), header);
    assert.equal(outHeader![header.length], 'prediction');
    assert.equal(out.length, body.length);
    // The same answers as the API's predictor gives for the same rows.
    const expected = await predictor.predict((await featureRows(spec)).slice(0, ROWS));
    out.forEach((cells, i) => {
      assert.deepEqual(cells.slice(0, header.length), body[i]);
      const { prediction, probabilities } = expected[i]!;
      assert.equal(cells[header.length], String(prediction));
      for (const [name, probability] of Object.entries(probabilities ?? {}))
        assert.equal(Number(cells[outHeader!.indexOf(`probability_${name}`)]), probability);
    });
  });

  it('keeps an input column that has the name of an added one (a scored file scored again); the added one takes a free name', () => {
    const input = join(dir, 'scored.csv');
    writeFileSync(input, csvText([[...header, 'prediction'], ...body.map((cells) => [...cells, 'from before'])]));
    const { status, stderr } = predict([input], modelDir);
    assert.equal(status, 0, stderr);
    const [outHeader, ...out] = parse(readFileSync(join(dir, 'scored.predictions.csv'), 'utf8')) as string[][];
    assert.deepEqual(outHeader!.slice(0, header.length + 2), [...header, 'prediction', 'prediction_2']);
    for (const cells of out) {
      assert.equal(cells[header.length], 'from before');
      assert.notEqual(cells[header.length + 1], '');
    }
  });

  it('reports refused rows on stderr as file:line: column: message, scores the rest (here to stdout: --output -), exits 1', function () {
    const feature = spec.features.features.find((f) => f.required && f.type !== 'string');
    if (!feature) this.skip();
    const column = header.indexOf(csvColumn(feature!));
    const rows = body.map((cells) => [...cells]);
    rows[2]![column] = feature!.type === 'boolean' ? 'maybe' : feature!.type === 'category' ? 'no-such-value' : 'abc';
    rows[4]![column] = '';
    const input = join(dir, 'some-bad.csv');
    writeFileSync(input, csvText([header, ...rows]));
    const { status, stdout, stderr } = predict([input, '--output', '-'], modelDir);
    assert.equal(status, 1, stderr);
    const named = /^[A-Za-z_]\w*$/.test(csvColumn(feature!)) ? csvColumn(feature!) : JSON.stringify(csvColumn(feature!));
    // Line 1 is the header: data row 3 is on line 4.
    const problems = stderr.split('\n').filter((line) => line.startsWith(`${input}:`) && /^[^:]+:\d+:/.test(line));
    assert.equal(problems.length, 2, stderr);
    assert.ok(problems[0]!.startsWith(`${input}:4: ${named}: `), problems[0]);
    assert.ok(problems[1]!.startsWith(`${input}:6: ${named}: required field is missing`), problems[1]);
    assert.equal(existsSync(join(dir, 'some-bad.predictions.csv')), false);
    const [, ...out] = parse(stdout) as string[][];
    assert.equal(out.length, body.length - 2);
    assert.deepEqual(
      out.map((cells) => cells.slice(0, header.length)),
      rows.filter((_, i) => i !== 2 && i !== 4),
    );
  });

  it('exits 2 with one clear line when nothing can be scored: no file, a required column missing, no model', () => {
    const missingFile = predict([join(dir, 'nope.csv')], modelDir);
    assert.equal(missingFile.status, 2);
    assert.match(missingFile.stderr, /nope\.csv: no such file/);

    const required = spec.features.features.find((f) => f.required);
    if (required) {
      const column = header.indexOf(csvColumn(required));
      const input = join(dir, 'no-column.csv');
      writeFileSync(input, csvText([header, ...body.slice(0, 2)].map((cells) => cells.filter((_, i) => i !== column))));
      const noColumn = predict([input], modelDir);
      assert.equal(noColumn.status, 2);
      assert.match(noColumn.stderr, /no-column\.csv:1: missing column/);
      assert.doesNotMatch(noColumn.stderr, /\n\s+at /, 'no stack trace');
    }

    const input = join(dir, 'fine.csv');
    writeFileSync(input, csvText([header, ...body.slice(0, 2)]));
    const noModel = predict([input], join(dir, 'empty-model-store'));
    assert.equal(noModel.status, 2);
    assert.doesNotMatch(noModel.stderr, /\n\s+at /, 'no stack trace');
  });
});
