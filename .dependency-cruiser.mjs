/**
 * The floor plan of src/ (DESIGN §4.1, docs/architecture.md), enforced by `npm run lint`. A room (a
 * top-level folder or file of src/) imports only from rooms on lower floors; the rest are narrower
 * rules the floors alone do not say. `test/architecture.test.ts` proves each rule fails a breach.
 */

/** From the ground up. Rooms on one floor do not import each other. */
const floors = [
  ['shared', 'config.ts'],
  ['core'],
  ['db'],
  ['queue'],
  ['audit'],
  ['carriers'],
  ['accounts'],
  ['devices'],
  ['billing'],
  ['bulk-changes'],
  ['engine', 'reconciliation'],
  ['callbacks'],
  ['notifications'],
  ['portal'],
  ['http'],
  ['demo'],
  ['cli', 'runtime.ts'],
  ['main.ts'],
  ['cli.ts'],
];

const room = (name) => `^src/${name.replace('.', '\\.')}${name.endsWith('.ts') ? '$' : '/'}`;
const production = ['\\.test\\.ts$'];

const layering = floors.flatMap((rooms, floor) =>
  rooms.flatMap((name) => {
    const forbidden = [...rooms.filter((other) => other !== name), ...floors.slice(floor + 1).flat()];
    if (forbidden.length === 0) return [];
    return [
      {
        name: `floor:${name}`,
        comment: `${name} (floor ${floor}) imports only rooms below it: not ${forbidden.join(', ')}`,
        severity: 'error',
        from: { path: room(name), pathNot: production },
        to: { path: forbidden.map(room) },
      },
    ];
  }),
);

export default {
  forbidden: [
    ...layering,
    {
      name: 'no-cycles',
      comment: 'No module imports itself back, however far round.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'core-is-the-ground',
      comment: 'core/ is the vocabulary every room shares: it imports nothing of ours but shared/.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: ['^src/core/', '^src/shared/'] },
    },
    {
      name: 'queue-knows-no-domain',
      comment: 'queue/ runs jobs; it knows nothing of carriers, bulk changes or the domain vocabulary.',
      severity: 'error',
      from: { path: '^src/queue/' },
      to: { path: '^src/', pathNot: ['^src/queue/', '^src/db/', '^src/shared/'] },
    },
    {
      name: 'simulators-only-in-the-demo',
      comment:
        'Simulators stand in for carriers in the demo, tests and `bulkchange simulate`; production code never calls one.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: [
          '^src/demo/',
          '^src/cli\\.ts$',
          '/simulator/',
          '^src/carriers/simulator-kit/',
          ...production,
        ],
      },
      to: { path: ['/simulator/', '^src/carriers/simulator-kit/'] },
    },
    {
      name: 'carriers-stay-apart',
      comment: 'A carrier module uses the shared carrier kit, never another carrier.',
      severity: 'error',
      from: { path: '^src/carriers/(jasper|thingspace|telegence|pond|teal)/' },
      to: {
        path: '^src/carriers/(jasper|thingspace|telegence|pond|teal)/',
        pathNot: '^src/carriers/$1/',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a room that names another's types depends on it.
    tsPreCompilationDeps: true,
    exclude: { path: ['node_modules'] },
  },
};
