// What happens when a file the generator writes already exists with different content.
//
// Yeoman's conflicter asks in a terminal (overwrite / skip / diff / …) and --force overwrites. Two things
// are decided here, before the conflicter runs (it respects a decision already set on a file):
//
// 1. A file the user has not touched since the generator wrote it is simply regenerated, so re-running after
//    editing features.yaml/config.yaml updates the README and co. without a question per file. The project's
//    .yo-rc.json records the sha256 of what was last written ("generatedFiles"); a file whose disk content still
//    has that hash is unchanged by the user. The user's own stubs are never regenerated this way. package.json is
//    always written: the generator merges its fields into the user's file, so the user's additions are kept.
// 2. Without a terminal the conflicter would still ask: @yeoman/adapter creates its prompts with skipTTYChecks,
//    so the question is read from whatever stdin is, and an open CI pipe that never sends a line hangs the run.
//    So a non-interactive run (without --force) keeps the user's version of every conflicting file, reports
//    each by name, and lists them again at the end; a conflicting features.yaml/config.yaml stops the run
//    instead, before anything is written, because the rest of the project would no longer match them.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';

/** The value of --interactive when it is not given. */
export const isTerminal = () => Boolean(process.stdin.isTTY && process.stdout.isTTY);

/** Files the user is meant to rewrite: never replaced without asking (or --force), even if untouched. */
export const USER_OWNED_FILES: ReadonlySet<string> = new Set(['src/data/dataLoader.ts', 'src/model/preprocessor.ts', 'src/model/train.ts']);
/** The project's contract: keeping an edited copy while regenerating the rest would leave them out of step. */
export const CONTRACT_FILES: ReadonlySet<string> = new Set(['features.yaml', 'config.yaml']);

/** Files the generator merges into (the user's additions are part of what it writes): written without asking. */
export const MERGED_FILES: ReadonlySet<string> = new Set(['package.json', 'helm/values.yaml']);

/** Project-relative path → sha256 of the content the generator last wrote there. */
export type GeneratedFilesRecord = Record<string, string>;

interface PendingFile {
  path: string;
  contents?: Buffer | null;
  state?: string;
  /** The conflicter's decision; a value set before the conflicter runs is respected by it. */
  conflicter?: string;
}

interface FileStore {
  each(onEach: (file: PendingFile) => void): unknown;
}

const YEOMAN_OWN_FILES = /(^|[\\/])\.yo-(rc|resolve|rc-global)(\.json)?$/;

export const sha256 = (content: Buffer | string) => createHash('sha256').update(content).digest('hex');

export interface ConflictDecisions {
  /** Project-relative path → hash of the content this run means to write (checked after the commit). */
  written: Map<string, string>;
  /** Files changed on disk by the user that keep the user's version (non-interactive runs). */
  kept: string[];
  /** Files the user had not touched, regenerated without asking. */
  regenerated: string[];
  /** Conflicts left to the conflicter's question (interactive runs): their outcome is known after the commit. */
  asked: string[];
  /** Notes on kept files that no longer match the input (a README whose features table is stale). */
  staleNotes: string[];
}

/** The README section the generator derives from features.yaml: from its heading to the next `## ` heading. */
const featuresSection = (readme: string) => /^## Features\n[\s\S]*?(?=^## |(?![\s\S]))/m.exec(readme)?.[0];

export interface DecideOptions {
  root: string;
  record: GeneratedFilesRecord;
  force: boolean;
  interactive: boolean;
}

/** Decides, before the conflicter runs, for every pending file inside `root` (see the top of this file). */
export function decideConflicts(sharedFs: unknown, { root, record, force, interactive }: DecideOptions): ConflictDecisions {
  const decisions: ConflictDecisions = { written: new Map(), kept: [], regenerated: [], asked: [], staleNotes: [] };
  const contractConflicts: string[] = [];
  (sharedFs as FileStore).each((file) => {
    if (file.state !== 'modified' || !file.contents || YEOMAN_OWN_FILES.test(file.path)) return;
    const relativePath = relative(root, file.path);
    if (!relativePath || relativePath.startsWith('..') || isAbsolute(relativePath)) return;
    const name = relativePath.split(sep).join('/');
    decisions.written.set(name, sha256(file.contents));
    if (file.conflicter || force || !existsSync(file.path)) return;
    const onDisk = readFileSync(file.path);
    if (onDisk.equals(file.contents)) return;
    if (MERGED_FILES.has(name) || (!USER_OWNED_FILES.has(name) && record[name] === sha256(onDisk))) {
      file.conflicter = 'force';
      decisions.regenerated.push(name);
    } else if (!interactive) {
      if (CONTRACT_FILES.has(name)) contractConflicts.push(name);
      file.conflicter = 'skip';
      decisions.kept.push(name);
      const generatedFeatures = name === 'README.md' ? featuresSection(file.contents.toString('utf8')) : undefined;
      if (generatedFeatures && !onDisk.toString('utf8').includes(generatedFeatures)) {
        decisions.staleNotes.push('README.md (kept): its Features table no longer matches features.yaml; --force regenerates it.');
      }
    } else {
      decisions.asked.push(name);
    }
  });
  if (contractConflicts.length) {
    throw new Error(
      [
        `The project's ${contractConflicts.join(' and ')} changed since it was generated and differ${contractConflicts.length === 1 ? 's' : ''} from the input; nothing was written.`,
        'Edit the project’s files and re-run without --features/--config, or run in a terminal to choose, or use --force to replace them.',
      ].join('\n'),
    );
  }
  decisions.kept.sort();
  decisions.regenerated.sort();
  return decisions;
}

/** After the commit: the record of what is on disk as the generator wrote it (kept user files keep their old entry). */
export function updatedRecord(root: string, record: GeneratedFilesRecord, written: ReadonlyMap<string, string>): GeneratedFilesRecord {
  const next: GeneratedFilesRecord = { ...record };
  for (const [name, hash] of written) {
    const path = `${root}/${name}`;
    if (existsSync(path) && sha256(readFileSync(path)) === hash) next[name] = hash;
  }
  return sortedRecord(next);
}

const sortedRecord = (record: GeneratedFilesRecord): GeneratedFilesRecord =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export function keptFilesMessage(kept: readonly string[]): string {
  return [
    `Kept your version of ${kept.length} file${kept.length === 1 ? '' : 's'} that differ${kept.length === 1 ? 's' : ''} from what the generator would write:`,
    ...kept.map((file) => `  ${file}`),
    'Run again in a terminal to review each difference, or with --force to overwrite them.',
  ].join('\n');
}

/** The parts of a generator the policy uses. */
interface PolicyHost {
  options: { force?: boolean; interactive?: boolean };
  env: { sharedFs: unknown };
  config: {
    get(key: 'generatedFiles'): GeneratedFilesRecord | undefined;
    set(key: 'generatedFiles', value: GeneratedFilesRecord): unknown;
  };
  destinationRoot(): string;
  log: { writeln(message: string): unknown };
}

/**
 * Runs the decisions above for one generator run: `beforeCommit()` in the transform priority (after every
 * generator wrote to memory, before the conflicter), `afterCommit()` in the install priority (after the
 * commit: records what was written, which Yeoman then commits too), `report()` in end.
 */
export class ConflictPolicy {
  #decisions?: ConflictDecisions;

  constructor(private readonly host: PolicyHost) {}

  beforeCommit(): void {
    const { host } = this;
    const record = host.config.get('generatedFiles') ?? {};
    const decisions = decideConflicts(host.env.sharedFs, {
      root: host.destinationRoot(),
      record,
      force: Boolean(host.options.force),
      interactive: Boolean(host.options.interactive),
    });
    this.#decisions = decisions;
    this.quietUnchangedFiles();
    // Record now what is sure to be written, so .yo-rc.json is committed once with everything else.
    const undecided = new Set([...decisions.kept, ...decisions.asked]);
    const sure = Object.fromEntries([...decisions.written].filter(([name]) => !undecided.has(name)));
    host.config.set('generatedFiles', sortedRecord({ ...record, ...sure }));
  }

  /** Only answered conflicts can change the record now; checking the disk settles them. */
  afterCommit(): void {
    if (!this.#decisions?.asked.length) return;
    const { host } = this;
    const record = host.config.get('generatedFiles') ?? {};
    const next = updatedRecord(host.destinationRoot(), record, this.#decisions.written);
    if (JSON.stringify(next) !== JSON.stringify(record)) host.config.set('generatedFiles', next);
  }

  /**
   * Yeoman logs one line per file; on a re-run ~150 of them say "identical" and hide the few that matter. Those
   * are counted instead (printed in report()); created, overwritten, kept and conflicting files are still listed.
   */
  quietUnchangedFiles(): void {
    const log = (this.host.env as { adapter?: { log?: Record<string, unknown> } }).adapter?.log;
    if (!log || typeof log.identical !== 'function') return;
    log.identical = () => {
      this.#unchanged += 1;
      return log;
    };
  }

  #unchanged = 0;

  report(): void {
    const decisions = this.#decisions;
    const kept = decisions?.kept ?? [];
    if (this.#unchanged) {
      const written = (decisions?.written.size ?? 0) - this.#unchanged - kept.length;
      this.host.log.writeln(
        `\n${this.#unchanged} file${this.#unchanged === 1 ? '' : 's'} unchanged, ${Math.max(written, 0)} written, ${kept.length} kept (yours)`,
      );
    }
    if (kept.length) this.host.log.writeln(`\n${keptFilesMessage(kept)}`);
    for (const note of decisions?.staleNotes ?? []) this.host.log.writeln(note);
  }
}
