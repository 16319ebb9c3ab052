/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): where the time went, by function (self time)
 * and by source file / package, and the inclusive time of the repository's own functions.
 * `node bench/lib/profile-summary.ts <file.cpuprofile> [top]` prints it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const location = (frame: ProfileNode['callFrame']): string => {
  if (!frame.url) return '';
  let file = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  if (file.startsWith(repoRoot)) file = path.relative(repoRoot, file);
  return `${file}:${frame.lineNumber + 1}`;
};

/** `node_modules/kysely/…` → `kysely`; `src/engine/engine.ts` stays; `node:…` internals → `node:internal`. */
const packageOf = (frame: ProfileNode['callFrame']): string => {
  const where = location(frame);
  if (!where) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
  if (modules) return modules[1];
  if (where.startsWith('node:')) return 'node:internal';
  return where.replace(/:\d+$/, '');
};

export interface ProfileSummary {
  totalMs: number;
  bySelf: Array<{ function: string; at: string; selfMs: number; share: number }>;
  byPackage: Array<{ package: string; selfMs: number; share: number }>;
  /** Time inside (self + callees) each function of the repository's own code. */
  ownInclusive: Array<{ function: string; at: string; inclusiveMs: number; share: number }>;
}

export function summariseProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const totalUs = [...selfUs.values()].reduce((sum, value) => sum + value, 0);
  const share = (us: number) => Math.round((us / totalUs) * 1000) / 10;
  const ms = (us: number) => Math.round(us / 1000);

  const functions = new Map<string, { function: string; at: string; us: number }>();
  const packages = new Map<string, number>();
  const inclusive = new Map<string, { function: string; at: string; us: number }>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const key = `${frame.functionName}@${location(frame)}`;
    const entry = functions.get(key) ?? {
      function: frame.functionName || '(anonymous)',
      at: location(frame),
      us: 0,
    };
    entry.us += us;
    functions.set(key, entry);
    packages.set(packageOf(frame), (packages.get(packageOf(frame)) ?? 0) + us);
    // Inclusive time of the repository's functions: each sample counts once per distinct own frame above it.
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const ancestor = byId.get(current)!.callFrame;
      const at = location(ancestor);
      if (!at.startsWith('src/')) continue;
      const ownKey = `${ancestor.functionName}@${at}`;
      if (seen.has(ownKey)) continue;
      seen.add(ownKey);
      const own = inclusive.get(ownKey) ?? { function: ancestor.functionName || '(anonymous)', at, us: 0 };
      own.us += us;
      inclusive.set(ownKey, own);
    }
  }
  return {
    totalMs: ms(totalUs),
    bySelf: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((entry) => ({
        function: entry.function,
        at: entry.at,
        selfMs: ms(entry.us),
        share: share(entry.us),
      })),
    byPackage: [...packages.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ package: name, selfMs: ms(us), share: share(us) })),
    ownInclusive: [...inclusive.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((entry) => ({
        function: entry.function,
        at: entry.at,
        inclusiveMs: ms(entry.us),
        share: share(entry.us),
      })),
  };
}

export function formatSummary(summary: ProfileSummary): string {
  const lines = [`total sampled: ${summary.totalMs} ms`, '', 'self time by package / file:'];
  for (const entry of summary.byPackage)
    lines.push(`  ${String(entry.share).padStart(5)}%  ${entry.selfMs} ms  ${entry.package}`);
  lines.push('', 'self time by function:');
  for (const entry of summary.bySelf)
    lines.push(`  ${String(entry.share).padStart(5)}%  ${entry.selfMs} ms  ${entry.function}  ${entry.at}`);
  lines.push('', 'inclusive time of src/ functions:');
  for (const entry of summary.ownInclusive)
    lines.push(
      `  ${String(entry.share).padStart(5)}%  ${entry.inclusiveMs} ms  ${entry.function}  ${entry.at}`,
    );
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top] = process.argv.slice(2);
  process.stdout.write(`${formatSummary(summariseProfile(file, Number(top) || 25))}\n`);
}
