#!/usr/bin/env node
// ml-microservice — the package's own command: runs the same generators as `yo ml-microservice` through
// yeoman-environment, without yo. It works as root (yo refuses root and drops to an unprivileged user that
// cannot write the target folder — the usual situation in containers and CI) and needs no global install.
//
//   ml-microservice [options]            = yo ml-microservice [options]
//   ml-microservice service [options]    = yo ml-microservice:service [options]
import { existsSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEnv } from 'yeoman-environment';
import type Generator from 'yeoman-generator';
import { packageRoot, readGeneratorPackageJson, readUsage } from '../generators/packageRoot.js';

const BIN = 'ml-microservice';
const NAMESPACE = 'ml-microservice';
const ownExtension = extname(fileURLToPath(import.meta.url));
const generatorPath = (name: string) => fileURLToPath(new URL(`../generators/${name}/index${ownExtension}`, import.meta.url));

/** Every generators/<name>/ this package ships (app first: the default), found the way yo finds them. */
const GENERATORS: string[] = readdirSync(fileURLToPath(new URL('../generators/', import.meta.url)), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(generatorPath(entry.name)))
  .map((entry) => entry.name)
  .sort((a, b) => (a === 'app' ? -1 : b === 'app' ? 1 : a < b ? -1 : 1));

/** Options handled by the environment (conflicts, install), besides each generator's own. */
const ENVIRONMENT_FLAGS = new Set(['help', 'h', 'version', 'force', 'skip-install', 'skip-cache', 'bail', 'dry-run']);

class UsageError extends Error {}

function flagsOf(args: readonly string[]): string[] {
  return args
    .filter((arg) => arg.startsWith('-') && arg !== '-' && arg !== '--')
    .map((arg) => arg.replace(/^--?/, '').replace(/=.*$/, '').replace(/^no-/, ''));
}

function helpText(name: string, generator: Generator): string {
  const others = GENERATORS.filter((other) => other !== name)
    .map((other) => `  ${BIN} ${other === 'app' ? '' : `${other} `}--help`)
    .join('\n');
  return [
    `Usage: ${BIN}${name === 'app' ? '' : ` ${name}`} [options]`,
    '',
    generator.description,
    '',
    'Options:',
    generator.optionsHelp(),
    '',
    readUsage(name).trimEnd(),
    '',
    `This is \`yo ${NAMESPACE}${name === 'app' ? '' : `:${name}`}\` without yo: same generator, same options, and it works as root.`,
    `See also:\n${others}`,
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const first = argv[0];
  const name = first && !first.startsWith('-') ? argv.shift()! : 'app';
  if (!GENERATORS.includes(name)) {
    throw new UsageError(`unknown generator "${name}" (available: ${GENERATORS.join(', ')}); see ${BIN} --help`);
  }
  if (argv.includes('--version')) {
    console.log(readGeneratorPackageJson().version);
    return;
  }
  const env = createEnv();
  for (const each of GENERATORS) env.register(generatorPath(each), { namespace: `${NAMESPACE}:${each}`, packagePath: packageRoot });
  const namespace = `${NAMESPACE}:${name}`;

  if (argv.includes('--help') || argv.includes('-h')) {
    const generator = await env.create<Generator>(namespace, { generatorArgs: [], generatorOptions: { help: true } });
    console.log(helpText(name, generator));
    return;
  }

  // The generator parses argv itself (its declared options are typed); reject what it would silently ignore.
  const generator = await env.create<Generator>(namespace, { generatorArgs: argv, generatorOptions: {} });
  const known = new Set([...ENVIRONMENT_FLAGS, ...Object.keys(generator._options)]);
  for (const spec of Object.values(generator._options) as { alias?: string }[]) if (spec.alias) known.add(spec.alias);
  const unknown = flagsOf(argv).filter((flag) => !known.has(flag));
  if (unknown.length)
    throw new UsageError(
      `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((f) => `--${f}`).join(', ')}; see ${BIN}${name === 'app' ? '' : ` ${name}`} --help`,
    );
  const positional = (generator as unknown as { args: string[] }).args;
  if (positional.length)
    throw new UsageError(`unexpected argument${positional.length > 1 ? 's' : ''} ${positional.join(' ')}; see ${BIN} --help`);

  // The environment reads its own settings (conflicts, install) from the generator's options in camel case.
  const options = generator.options as Record<string, unknown>;
  options.dryRun ??= options['dry-run'];
  await env.runGenerator(generator);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  // Messages are written for people (SpecError lists file:line:col field: problem); a stack trace would bury them.
  const message = error instanceof Error ? error.message : String(error);
  console.error(`\n${BIN}: ${message.trim()}\n`);
  if (process.env.DEBUG) console.error(error);
  process.exit(1);
}
