import { DeviceStore, type SimDevice } from './device-store.ts';

/**
 * A DeviceStore that also finds a line by a key of the carrier's own (a subscriber number, an EID, a
 * package id). `keysOf` names a line's keys; the index follows every put, delete and clear.
 */
export class IndexedDeviceStore<D extends SimDevice> extends DeviceStore<D> {
  readonly #keysOf: (device: D) => string[];
  readonly #iccidByKey = new Map<string, string>();

  constructor(keysOf: (device: D) => string[]) {
    super();
    this.#keysOf = keysOf;
  }

  /** The line that holds this key now. */
  byKey(key: string): D | undefined {
    const iccid = this.#iccidByKey.get(key);
    return iccid === undefined ? undefined : this.get(iccid);
  }

  override put(device: D): boolean {
    this.#unindex(device.iccid);
    for (const key of this.#keysOf(device)) this.#iccidByKey.set(key, device.iccid);
    return super.put(device);
  }

  override delete(iccid: string): boolean {
    this.#unindex(iccid);
    return super.delete(iccid);
  }

  override clear(): void {
    this.#iccidByKey.clear();
    super.clear();
  }

  /** Only the keys that still lead to this line: a newer line may have taken one. */
  #unindex(iccid: string): void {
    const stored = this.get(iccid);
    if (stored === undefined) return;
    for (const key of this.#keysOf(stored)) {
      if (this.#iccidByKey.get(key) === iccid) this.#iccidByKey.delete(key);
    }
  }
}
