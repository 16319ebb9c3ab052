import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second for /proc/<pid>/stat (utime, stime). */
const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of a process so far, in ms (from /proc/<pid>/stat). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicks;
}

/** VmRSS and VmHWM (peak RSS) of a process, in MB (from /proc/<pid>/status). */
export function memoryMb(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/**
 * Samples a process's memory every `intervalMs` until stopped: the peak is the larger of the highest
 * VmRSS seen and the kernel's VmHWM, read last.
 */
export class ProcessSampler {
  readonly pid: number;
  readonly #timer: NodeJS.Timeout;
  #peakRssMb = 0;
  #hwmMb = 0;
  #cpuAtStart: number;
  readonly samples: Array<{ atMs: number; rssMb: number }> = [];
  readonly #startedAt = performance.now();

  constructor(pid: number, intervalMs = 100) {
    this.pid = pid;
    this.#cpuAtStart = safe(() => cpuMs(pid), 0);
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
    this.sample();
  }

  sample(): void {
    const memory = safe(() => memoryMb(this.pid), undefined);
    if (!memory) return;
    this.#peakRssMb = Math.max(this.#peakRssMb, memory.rssMb);
    this.#hwmMb = Math.max(this.#hwmMb, memory.hwmMb);
    this.samples.push({ atMs: Math.round(performance.now() - this.#startedAt), rssMb: memory.rssMb });
  }

  /** CPU ms used by the process since the sampler started. */
  cpuMsSinceStart(): number {
    return safe(() => cpuMs(this.pid), this.#cpuAtStart) - this.#cpuAtStart;
  }

  stop(): { peakRssMb: number; hwmMb: number } {
    this.sample();
    clearInterval(this.#timer);
    return { peakRssMb: this.#peakRssMb, hwmMb: this.#hwmMb };
  }
}

/** Busy and total jiffies of the whole machine so far (the `cpu` line of /proc/stat). */
function machineJiffies(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  // idle and iowait
  return { busy: total - fields[3] - (fields[4] ?? 0), total };
}

/**
 * How busy the whole machine was since the sampler started, in cores (every process, ours and others'):
 * where several processes and the database share the cores, this says whether the CPU was the bound.
 */
export class MachineSampler {
  readonly cores = cpus().length;
  readonly #start = safe(machineJiffies, { busy: 0, total: 0 });

  busyCores(): number | null {
    const now = safe(machineJiffies, this.#start);
    const total = now.total - this.#start.total;
    return total > 0 ? ((now.busy - this.#start.busy) / total) * this.cores : null;
  }
}

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
