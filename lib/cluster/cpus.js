'use strict'
// How many workers 'auto' means: the CPUs this process may use. os.availableParallelism()
// already honours the CPU affinity mask (cpusets, taskset), but not a CFS bandwidth quota,
// which is how containers (Docker --cpus, Kubernetes limits) and systemd (CPUQuota=) cap
// CPU time. A process that forks one worker per host core under a 2-CPU quota gets its
// workers throttled for the rest of every period: latency spikes instead of throughput.
//
// The quota is read from the cgroup filesystem, v2 (`cpu.max`) and v1 (`cpu.cfs_quota_us`
// and `cpu.cfs_period_us`), for the process's own cgroup and each of its ancestors (a
// quota on a parent limits the children too). Every read is allowed to fail: no cgroup
// filesystem, another OS, or a file the process cannot read all mean "no quota".

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

// `cpu.max` (v2): "<quota> <period>" in microseconds, quota "max" for none.
function parseCpuMax (text) {
  const [quota, period] = String(text).trim().split(/\s+/)
  if (quota === undefined || quota === 'max') return null
  return quotaToCpus(Number(quota), period === undefined ? 100_000 : Number(period))
}

// v1: cfs_quota_us is -1 for none.
function parseCfs (quotaText, periodText) {
  const quota = Number(String(quotaText).trim())
  if (quota === -1) return null
  return quotaToCpus(quota, Number(String(periodText).trim()))
}

function quotaToCpus (quota, period) {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return null
  return quota / period
}

// /proc/self/cgroup: "<id>:<controllers>:<path>" per line. The v2 line is "0::<path>";
// a v1 line lists its controllers, and the CPU one includes "cpu".
function parseProcCgroup (text) {
  const result = { v2: null, v1cpu: null }
  for (const line of String(text).split('\n')) {
    const first = line.indexOf(':')
    const second = line.indexOf(':', first + 1)
    if (first < 0 || second < 0) continue
    const id = line.slice(0, first)
    const controllers = line.slice(first + 1, second)
    const cgroupPath = line.slice(second + 1)
    if (!cgroupPath.startsWith('/')) continue
    if (id === '0' && controllers === '') result.v2 = cgroupPath
    else if (controllers.split(',').includes('cpu')) result.v1cpu = cgroupPath
  }
  return result
}

// The folder of `cgroupPath` under `mount`, then each parent up to the mount itself.
// Inside a container the path /proc shows may not exist under the container's own mount
// (the mount is already the container's cgroup): the mount itself is always checked.
function candidateDirs (mount, cgroupPath) {
  const dirs = []
  let current = cgroupPath
  for (;;) {
    dirs.push(path.join(mount, current))
    if (current === '/' || current === '') break
    current = path.posix.dirname(current)
  }
  return dirs
}

function readText (file) {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

// The smallest quota on the way from the cgroup to the root, in CPUs, or null.
function smallest (dirs, readQuota) {
  let limit = null
  for (const dir of dirs) {
    const cpus = readQuota(dir)
    if (cpus !== null && cpus !== undefined && (limit === null || cpus < limit)) limit = cpus
  }
  return limit
}

// The CPU quota of this process's cgroup in CPUs (may be fractional), or null for none.
// `proc` and `cgroupRoot` are there for tests, which point them at fixture folders.
function cgroupCpuQuota ({ proc = '/proc', cgroupRoot = '/sys/fs/cgroup' } = {}) {
  const self = readText(path.join(proc, 'self', 'cgroup'))
  if (self === undefined) return null
  const { v2, v1cpu } = parseProcCgroup(self)
  const limits = []
  if (v2 !== null) {
    // A pure v2 host mounts the unified hierarchy at the root; a hybrid one under unified/.
    for (const mount of [cgroupRoot, path.join(cgroupRoot, 'unified')]) {
      limits.push(smallest(candidateDirs(mount, v2), (dir) => {
        const text = readText(path.join(dir, 'cpu.max'))
        return text === undefined ? null : parseCpuMax(text)
      }))
    }
  }
  if (v1cpu !== null) {
    for (const mount of ['cpu,cpuacct', 'cpu', 'cpuacct,cpu'].map((m) => path.join(cgroupRoot, m))) {
      limits.push(smallest(candidateDirs(mount, v1cpu), (dir) => {
        const quota = readText(path.join(dir, 'cpu.cfs_quota_us'))
        const period = readText(path.join(dir, 'cpu.cfs_period_us'))
        return quota === undefined || period === undefined ? null : parseCfs(quota, period)
      }))
    }
  }
  return smallest(limits, (cpus) => cpus)
}

// The worker count for 'auto': available CPUs, capped by the quota rounded down (a
// fraction of a CPU left unused costs less than a worker throttled every period), at
// least 1.
function usableCpus ({ available = os.availableParallelism(), ...paths } = {}) {
  const quota = cgroupCpuQuota(paths)
  const cap = quota === null ? Infinity : Math.max(1, Math.floor(quota))
  return Math.max(1, Math.min(available, cap))
}

module.exports = { usableCpus, cgroupCpuQuota, parseCpuMax, parseCfs, parseProcCgroup }
