// The enforcement table's entries (probes/enforce.h): written by the responses of the alerts stage
// (alerts/responses.ts), loaded into the kernel through the sensor's addon (sensor/native.ts). Both
// sides need the same flags, so they live on the floor rather than in either stage.

/** probes/enforce.h VG_ENF_* */
export const VG_ENF_KILL = 1 << 0;
export const VG_ENF_CONTAINERS_ONLY = 1 << 1;
export const VG_ENF_SPOIL = 1 << 2;
/** probes/enforce.h enum vg_enf_spoil */
export const EnforceSpoil = { NONE: 0, BYTE0: 1, BPF_ATTR: 2 } as const;

export interface EnforceEntry {
  nr: number;
  /** VG_ENF_*; 0 leaves the call alone. */
  flags: number;
  /** enum vg_enf_spoil (EnforceSpoil); required with VG_ENF_SPOIL. */
  spoil?: number;
  /** Which argument (0..5) is the user pointer to spoil. */
  spoilArg?: number;
}
