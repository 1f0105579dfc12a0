'use strict'
// A primary started by a package manager (`npm start`, `npx prodkit run`, yarn, pnpm)
// stops with it. npm is not a process manager: it runs the script through `sh -c`, which
// does not pass SIGTERM on, and when npm itself is told to stop (SIGTERM from `docker
// stop`, a CI runner, a terminal closing), npm and that shell exit and the primary is
// left running with its workers, reparented to init, holding the port. So under a
// package manager the primary watches its parent: once it is gone (the primary was
// reparented), the cluster shuts down as on SIGTERM. Anywhere else the parent is not
// watched: under systemd or as a container's PID 1 it never changes, and a primary a
// user deliberately detached (`nohup prodkit run app.js &`) must keep running.
// The workers never outlive the primary either way: node:cluster ends a worker whose
// IPC channel to the primary closes.

// Every package manager sets npm_lifecycle_event for a script it runs; npx (npm exec)
// sets npm_command.
function underPackageManager (env = process.env) {
  return Boolean(env.npm_lifecycle_event || env.npm_command)
}

// Calls onGone(previousPpid) once, when this process's parent changes. Returns stop().
function watchParent (onGone, { intervalMs = 500 } = {}) {
  const parent = process.ppid
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    onGone(parent)
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

module.exports = { underPackageManager, watchParent }
