/** The example CSVs shipped in `examples/`, each runnable against the demo data. */
export const demoExamples = [
  {
    file: 'examples/jasper-activate.csv',
    account: 'jasper:jasper',
    changeType: 'status_update',
    description: 'Activate 500 lines that are ready, in inventory or deactivated',
  },
  {
    file: 'examples/jasper-deactivate.csv',
    account: 'jasper:jasper',
    changeType: 'status_update',
    description: 'Deactivate 100 active lines',
  },
  {
    file: 'examples/jasper-rate-plan-change.csv',
    account: 'jasper:jasper',
    changeType: 'carrier_rate_plan_change',
    description: 'Move 200 lines to IoT 100MB on the CP_Data_Only communication plan',
  },
  {
    file: 'examples/pod19-test-ready.csv',
    account: 'jasper:pod19',
    changeType: 'status_update',
    description: 'Move 50 POD19 lines from inventory to test ready',
  },
] as const;
