// yo ml-microservice in a terminal: the iris question, then the project questions and features.yaml inferred from a CSV.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseSpec } from '../../generators/contract.js';
import { IRIS_FEATURES, read, runGenerator, tempDir, writeFiles } from './support.js';

// Eight customers: integer, number with a gap, boolean, a category of three, free text, the target and an id.
const CUSTOMERS_CSV = `age,income,member,plan,notes,churned,customer_id
34,52000.5,true,gold,likes the app,yes,c1
45,61000,false,silver,called twice,no,c2
23,,true,bronze,new,no,c3
51,72000.25,false,gold,moved,yes,c4
38,48000,TRUE,silver,asked for discount,no,c5
29,39000,false,bronze,student,no,c6
62,88000,true,gold,retired,yes,c7
41,57000,false,silver,family plan,no,c8
`;

const PROJECT_ANSWERS = {
  useExample: false,
  name: 'churn',
  task: 'classification',
  data: 'customers.csv',
  target: 'churned',
  idField: 'customer_id',
};

describe('app generator: prompts', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('"Start from the iris example?" yes → the iris project, nothing else asked', async () => {
    const result = await runGenerator(dir, { options: { interactive: true }, answers: { useExample: true } });
    assert.deepEqual(
      result.askedQuestions.map((question) => question.name),
      ['useExample'],
    );
    assert.equal(read(join(dir, 'iris-classifier/features.yaml')), IRIS_FEATURES);
  });

  describe('no → the project questions, features.yaml inferred from the CSV', () => {
    let features: ReturnType<typeof parseSpec>['features']['features'];
    let config: ReturnType<typeof parseSpec>['config'];
    let asked: string[];

    beforeEach(async () => {
      writeFiles(dir, { 'customers.csv': CUSTOMERS_CSV });
      const result = await runGenerator(dir, { options: { interactive: true }, answers: PROJECT_ANSWERS });
      asked = result.askedQuestions.map((question) => question.name);
      // The drafts must pass the same validation as hand-written files.
      ({
        features: { features },
        config,
      } = parseSpec(read(join(dir, 'churn/features.yaml')), read(join(dir, 'churn/config.yaml'))));
    });

    it('asks every question once, in order', () => {
      // describeFeatures: "Describe the features now?", answered no by default (the inferred descriptions stay).
      assert.deepEqual(asked, ['useExample', 'name', 'task', 'data', 'target', 'idField', 'describeFeatures']);
    });

    it('infers a sensible type per column, leaving out the target and the id field', () => {
      assert.deepEqual(
        features.map(({ name, type }) => `${name}:${type}`),
        ['age:integer', 'income:number', 'member:boolean', 'plan:category', 'notes:string'],
      );
    });

    it('records the observed range (not min/max, which would be hard limits), the example from the first row, and marks gaps as optional', () => {
      const byName = Object.fromEntries(features.map((feature) => [feature.name, feature]));
      assert.deepEqual([byName.age?.observed, byName.age?.example], [{ min: 23, max: 62 }, 34]);
      assert.deepEqual([byName.income?.observed, byName.income?.required], [{ min: 39000, max: 88000 }, false]);
      assert.deepEqual(
        [byName.age?.min, byName.age?.max, byName.income?.min, byName.income?.max],
        [undefined, undefined, undefined, undefined],
      );
      assert.equal(byName.age?.required, true);
      assert.equal(byName.member?.example, true);
      assert.deepEqual(byName.plan?.values, ['bronze', 'gold', 'silver']);
      assert.equal(byName.notes?.example, 'likes the app');
    });

    it('writes config.yaml from the answers, with the data copied into the project', () => {
      assert.equal(config.name, 'churn');
      assert.equal(config.task, 'classification');
      assert.equal(config.target, 'churned');
      assert.equal(config.id_field, 'customer_id');
      assert.equal(config.data.path, 'data/customers.csv');
      assert.equal(read(join(dir, 'churn/data/customers.csv')), CUSTOMERS_CSV);
      assert.match(read(join(dir, 'churn/features.yaml')), /^# The model's inputs, inferred from data\/customers\.csv/);
    });
  });

  it('flags answer their questions: only the missing ones are asked, and no iris question', async () => {
    writeFiles(dir, { 'customers.csv': CUSTOMERS_CSV });
    const result = await runGenerator(dir, {
      options: { interactive: true, name: 'churn', data: 'customers.csv' },
      answers: { task: 'regression', target: 'income', idField: 'customer_id' },
    });
    assert.deepEqual(
      result.askedQuestions.map((question) => question.name),
      ['task', 'target', 'idField', 'describeFeatures'],
    );
    const { features, config } = parseSpec(read(join(dir, 'churn/features.yaml')), read(join(dir, 'churn/config.yaml')));
    assert.equal(config.task, 'regression');
    assert.ok(!features.features.some((feature) => feature.name === 'income'));
  });

  it('asks for each description when the user wants to write them, the inferred one as the default', async () => {
    writeFiles(dir, { 'customers.csv': CUSTOMERS_CSV });
    const result = await runGenerator(dir, {
      options: { interactive: true },
      answers: { ...PROJECT_ANSWERS, describeFeatures: true, description_age: 'Age of the customer in years' },
    });
    const asked = result.askedQuestions.map((question) => question.name);
    assert.deepEqual(asked.slice(asked.indexOf('describeFeatures')), [
      'describeFeatures',
      'description_age',
      'description_income',
      'description_member',
      'description_plan',
      'description_notes',
    ]);
    const { features } = parseSpec(read(join(dir, 'churn/features.yaml')), read(join(dir, 'churn/config.yaml'))).features;
    const description = (name: string) => features.find((feature) => feature.name === name)?.description;
    assert.equal(description('age'), 'Age of the customer in years');
    // Unanswered: the inferred description (the default answer).
    assert.equal(description('income'), 'Income, numeric, 39000 to 88000 in the data, missing in 1 of 8 rows');
  });

  it('answers are validated like flags (an invalid one stops the run, nothing written)', async () => {
    writeFiles(dir, { 'customers.csv': CUSTOMERS_CSV });
    await assert.rejects(
      runGenerator(dir, { options: { interactive: true }, answers: { ...PROJECT_ANSWERS, name: 'Churn Model' } }),
      (error: Error) => {
        assert.match(error.message, /--name "Churn Model": expected a lower-case name/);
        return true;
      },
    );
    await assert.rejects(
      runGenerator(dir, { options: { interactive: true }, answers: { ...PROJECT_ANSWERS, target: 'nope' } }),
      /"nope" is not a column/,
    );
    assert.ok(!existsSync(join(dir, 'churn')));
  });
});
