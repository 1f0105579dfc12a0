'use strict'
// workers: 'auto': available CPUs capped by the cgroup CPU quota, read from fixture copies
// of /proc/self/cgroup and /sys/fs/cgroup for cgroup v2, v1 and hybrid hosts.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { usableCpus, cgroupCpuQuota, parseCpuMax, parseCfs, parseProcCgroup } = require('../lib/cluster/cpus')

const FIXTURES = path.join(__dirname, 'fixtures', 'cgroup')
const paths = (name) => ({ proc: path.join(FIXTURES, name, 'proc'), cgroupRoot: path.join(FIXTURES, name, 'sys') })

test('cpu.max (v2) and cfs_quota_us/cfs_period_us (v1) parse to CPUs, "max" and -1 to no quota', () => {
  assert.equal(parseCpuMax('150000 100000\n'), 1.5)
  assert.equal(parseCpuMax('max 100000\n'), null)
  assert.equal(parseCpuMax('50000'), 0.5) // the period defaults to 100 ms
  assert.equal(parseCfs('200000\n', '100000\n'), 2)
  assert.equal(parseCfs('-1\n', '100000\n'), null)
  for (const bad of ['', 'garbage', '0 100000', '-5 100000', '100000 0', '100000 nope']) {
    assert.equal(parseCpuMax(bad), null, JSON.stringify(bad))
  }
  assert.equal(parseCfs('x', '100000'), null)
})

test('/proc/self/cgroup: the v2 path and the v1 cpu controller path', () => {
  assert.deepEqual(parseProcCgroup('0::/system.slice/app.service\n'), { v2: '/system.slice/app.service', v1cpu: null })
  assert.deepEqual(parseProcCgroup('12:memory:/a\n4:cpu,cpuacct:/docker/x\n1:name=systemd:/b\n'), { v2: null, v1cpu: '/docker/x' })
  assert.deepEqual(parseProcCgroup('3:cpuacct,cpu:/\n0::/u\n'), { v2: '/u', v1cpu: '/' })
  assert.deepEqual(parseProcCgroup('nonsense\n\n5:cpu:relative\n'), { v2: null, v1cpu: null })
})

test('the quota of the process cgroup, or of an ancestor when it is smaller', () => {
  assert.equal(cgroupCpuQuota(paths('v2-service')), 1.5)
  assert.equal(cgroupCpuQuota(paths('v2-parent')), 2.5) // the pod's, under the parent's 4
  assert.equal(cgroupCpuQuota(paths('v2-unlimited')), null)
  assert.equal(cgroupCpuQuota(paths('v2-namespaced')), 3) // "0::/" inside a cgroup namespace
  assert.equal(cgroupCpuQuota(paths('v1-docker')), 0.5) // path absent under the mount: the mount's own
  assert.equal(cgroupCpuQuota(paths('v1-unlimited')), null)
  assert.equal(cgroupCpuQuota(paths('hybrid')), 3) // v2 has no cpu controller, v1 has the quota
  assert.equal(cgroupCpuQuota({ proc: path.join(FIXTURES, 'does-not-exist'), cgroupRoot: '/nowhere' }), null)
})

test('usable CPUs: available CPUs capped by the quota rounded down, at least 1', () => {
  assert.equal(usableCpus({ available: 8, ...paths('v2-service') }), 1)
  assert.equal(usableCpus({ available: 8, ...paths('v2-parent') }), 2)
  assert.equal(usableCpus({ available: 2, ...paths('v2-namespaced') }), 2) // affinity is smaller
  assert.equal(usableCpus({ available: 8, ...paths('v1-docker') }), 1) // half a CPU: one worker
  assert.equal(usableCpus({ available: 8, ...paths('v2-unlimited') }), 8)
  assert.equal(usableCpus({ available: 8, ...paths('hybrid') }), 3)
  // This machine: whatever it is, a positive integer no larger than availableParallelism().
  const here = usableCpus()
  assert.ok(Number.isInteger(here) && here >= 1 && here <= require('node:os').availableParallelism())
})
